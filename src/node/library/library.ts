/**
 * The library: the local index of patients, studies, series and instances. One per app, built by
 * the composition root (src/node/services.ts). It only composes the units that do the work:
 * importer.ts (import pipeline and background hashing), index-writes.ts (batch writes and removal),
 * queries.ts (the browser's and the viewer's questions) and measurements.ts.
 */
import { existsSync } from 'node:fs';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import type { Task } from '../tasks';
import type { ImportReport, Measurement } from '../../shared/api/library';
import { Importer, type ImportFileOptions } from './importer';
import { IndexWrites } from './index-writes';
import { Measurements } from './measurements';
import { LibraryQueries } from './queries';

export interface LibraryOptions {
  /**
   * Where an instance's bytes can still be read when its indexed file is gone: split storage's
   * rebuilt copy (src/node/split/service.ts). Null when there is none.
   */
  sourceOf?: (instanceId: number, file: { path: string; sha256: string | null }) => Promise<string | null>;
}

export class Library {
  private readonly queries: LibraryQueries;
  private readonly writes: IndexWrites;
  private readonly importer: Importer;
  private readonly store: Measurements;

  constructor(
    db: Db,
    log?: Logger,
    private readonly opts: LibraryOptions = {},
  ) {
    this.queries = new LibraryQueries(db);
    this.writes = new IndexWrites(db, this.queries);
    this.importer = new Importer(db, this.writes, log);
    this.store = new Measurements(db, this.queries);
  }

  /** Stops background hashing (after its current chunk) and the import workers. */
  close(): Promise<void> {
    return this.importer.close();
  }

  // ---- import
  import(paths: string[], task: Task, opts: ImportFileOptions = {}): Promise<ImportReport> {
    return this.importer.import(paths, task, opts);
  }
  hashPending(task: Task): Promise<number> {
    return this.importer.hashPending(task);
  }
  whenHashed(): Promise<void> {
    return this.importer.whenHashed();
  }
  remove(target: Parameters<IndexWrites['remove']>[0]): ReturnType<IndexWrites['remove']> {
    return this.writes.remove(target);
  }

  // ---- browser and viewer queries
  readonly patients: LibraryQueries['patients'] = (q) => this.queries.patients(q);
  readonly studies: LibraryQueries['studies'] = (q) => this.queries.studies(q);
  readonly study: LibraryQueries['study'] = (id) => this.queries.study(id);
  readonly studyByUid: LibraryQueries['studyByUid'] = (uid) => this.queries.studyByUid(uid);
  readonly series: LibraryQueries['series'] = (studyId) => this.queries.series(studyId);
  readonly oneSeries: LibraryQueries['oneSeries'] = (id) => this.queries.oneSeries(id);
  readonly instances: LibraryQueries['instances'] = (seriesId, source) => this.queries.instances(seriesId, source);
  readonly stack: LibraryQueries['stack'] = (seriesId, source) => this.queries.stack(seriesId, source);
  readonly instance: LibraryQueries['instance'] = (id) => this.queries.instance(id);
  readonly instanceFile: LibraryQueries['instanceFile'] = (id) => this.queries.instanceFile(id);
  readonly instanceAtPath: LibraryQueries['instanceAtPath'] = (path) => this.queries.instanceAtPath(path);
  readonly instanceOfSop: LibraryQueries['instanceOfSop'] = (sop, source) => this.queries.instanceOfSop(sop, source);
  readonly tags: LibraryQueries['tags'] = async (id) => {
    const file = this.queries.instanceFile(id);
    return this.queries.tags(id, file ? await this.readablePath(id, file) : undefined);
  };

  /** The file to read an instance from: its indexed path, or — that file gone — a rebuilt copy (split storage). */
  async readablePath(instanceId: number, file: { path: string; sha256: string | null }): Promise<string> {
    if (!this.opts.sourceOf || existsSync(file.path)) return file.path;
    return (await this.opts.sourceOf(instanceId, file)) ?? file.path;
  }
  readonly thumbnailSource: LibraryQueries['thumbnailSource'] = (seriesId) => this.queries.thumbnailSource(seriesId);

  // ---- measurements
  measurements(q: { instanceId?: number; seriesId?: number }): Measurement[] {
    return this.store.measurements(q);
  }
  saveMeasurement(m: Parameters<Measurements['saveMeasurement']>[0]): Measurement {
    return this.store.saveMeasurement(m);
  }
  deleteMeasurement(id: number): boolean {
    return this.store.deleteMeasurement(id);
  }
}
