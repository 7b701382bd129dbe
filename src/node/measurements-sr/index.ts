/**
 * Measurements as a DICOM SR (docs/measurements-sr.md): a study's (or a series') saved measurements are written as
 * one TID 1500 Measurement Report (Enhanced SR, report.ts) that joins the library as an instance of the study in a
 * series of its own — fingerprinted and anchorable like any instance, exported with the study. Reading a report
 * back saves its measurements on the referenced images again (those already there are left alone).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Measurement, MeasurementKind } from '../../shared/api/library';
import { KOS_SOP_CLASS_UID } from '../../shared/api/keyimages';
import { MEASUREMENT_REPORT_SOP_CLASS_UIDS, type MeasurementReportLoadResult, type MeasurementReportSaveResult, type SrMeasurementNote } from '../../shared/api/measurements-sr';
import type { Db } from '../store/database';
import type { AuditInput } from '../audit/audit-log';
import { Task } from '../tasks';
import { encodePart10, readNaturalized } from '../keyimages/kos';
import { studyHeader } from '../keyimages/study-header';
import { measurementReportDataset, reportMeasurements, samePoints, type SourceMeasurement } from './report';
import { numbersColumn } from '../store/columns';

export * from './report';

export interface MeasurementsSrDeps {
  db: Db;
  /** Where written reports are kept (they are library instances: the index points at them). */
  dir: string;
  importFiles(paths: string[], task: Task): Promise<{ instanceIds: number[] }>;
  /** The library's measurements (the one store; its format is not this module's). */
  measurements(q: { instanceId: number }): Measurement[];
  saveMeasurement(m: { instanceId: number; frame: number; kind: MeasurementKind; data: Record<string, unknown>; stats: Record<string, number | string | null> }): Measurement;
  audit(input: AuditInput): void;
  actor(): string;
}

type Row = Record<string, unknown>;
const NON_IMAGE_CLASSES = [KOS_SOP_CLASS_UID, ...MEASUREMENT_REPORT_SOP_CLASS_UIDS];

export class MeasurementsSr {
  constructor(private readonly deps: MeasurementsSrDeps) {}

  private get db(): Db {
    return this.deps.db;
  }

  private study(q: { studyId?: number; seriesId?: number; wholeStudy?: boolean }): { id: number; uid: string; seriesId: number | null } {
    if (q.seriesId !== undefined) {
      const r = this.db.prepare('SELECT st.id, st.study_uid AS uid FROM series se JOIN studies st ON st.id = se.study_ref WHERE se.id = ?').get(q.seriesId) as { id: number; uid: string } | undefined;
      if (!r) throw new AppError(ErrorCode.NotFound, `Series ${q.seriesId} is not in the library.`, 'Refresh the study list; it may have been removed.');
      return { ...r, seriesId: q.wholeStudy ? null : q.seriesId };
    }
    const r = this.db.prepare('SELECT id, study_uid AS uid FROM studies WHERE id = ?').get(q.studyId) as { id: number; uid: string } | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Study ${q.studyId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return { ...r, seriesId: null };
  }

  /** The saved measurements of the study's (or series') images, with what the report needs of each image. */
  private sources(studyId: number, seriesId: number | null): SourceMeasurement[] {
    const rows = this.db
      .prepare(
        `SELECT m.sop_uid AS sop, m.frame, m.kind, m.data, m.stats, i.sop_class AS sopClass, i.pixel_spacing AS ps, se.series_uid AS seriesUid, se.modality
           FROM measurements m JOIN instances i ON i.sop_uid = m.sop_uid AND i.copy_of IS NULL JOIN series se ON se.id = i.series_ref
          WHERE se.study_ref = ? AND (? IS NULL OR se.id = ?) ORDER BY se.number, i.number, m.frame, m.id`,
      )
      .all(studyId, seriesId, seriesId) as Row[];
    return rows.map((r) => ({
      sopInstanceUid: r.sop as string,
      sopClassUid: (r.sopClass as string | null) ?? '',
      seriesInstanceUid: r.seriesUid as string,
      frame: r.frame as number,
      kind: r.kind as MeasurementKind,
      data: JSON.parse(r.data as string) as Record<string, unknown>,
      stats: JSON.parse(r.stats as string) as Record<string, unknown>,
      pixelSpacing: numbersColumn(r.ps),
      modality: (r.modality as string | null) ?? null,
    }));
  }

  /** Patient / study attributes as an image of the study says them (header only). */
  private studyAttributes(studyId: number): Promise<Record<string, unknown>> {
    return studyHeader(this.db, studyId, NON_IMAGE_CLASSES);
  }

  /** Writes the saved measurements as a TID 1500 Measurement Report and adds it to the library as an instance of the study. */
  async save(q: { studyId?: number; seriesId?: number; wholeStudy?: boolean }): Promise<MeasurementReportSaveResult> {
    const study = this.study(q);
    const sources = this.sources(study.id, study.seriesId);
    const scope = study.seriesId !== null ? 'series' : 'study';
    if (sources.length === 0) {
      throw new AppError(ErrorCode.InvalidArgument, `This ${scope} has no saved measurements to write as a Measurement Report.`, 'Draw lengths, angles or ROIs on its images first, then save.');
    }
    const attrs = await this.studyAttributes(study.id);
    if (attrs.StudyInstanceUID !== study.uid) {
      throw new AppError(ErrorCode.Conflict, `The study's file says Study Instance UID ${String(attrs.StudyInstanceUID)}, the library ${study.uid}.`, 'Re-import the study so the index matches its files.');
    }
    const used = this.db.prepare('SELECT number AS n FROM series WHERE study_ref = ?').all(study.id) as { n: number | null }[];
    const seriesNumber = Math.max(900, ...used.map((x) => x.n ?? 0)) + 1;
    const observer = this.deps.actor();
    const { dataset, written, skipped } = measurementReportDataset({ study: attrs, measurements: sources, observer: personName(observer), seriesNumber });
    if (written.length === 0) {
      throw new AppError(
        ErrorCode.InvalidArgument,
        `None of the ${sources.length} measurement(s) of this ${scope} can go into a Measurement Report: ${describeSkipped(skipped)}.`,
        'Lengths and areas need images with Pixel Spacing (0028,0030); probes are not written. Draw a length, angle or ROI on a calibrated image.',
      );
    }
    const sop = dataset.SOPInstanceUID as string;
    const dir = join(this.deps.dir, study.uid);
    await mkdir(dir, { recursive: true });
    const filePath = join(dir, `SR-${sop}.dcm`);
    await writeFile(filePath, encodePart10(dataset));
    const imported = await this.deps.importFiles([filePath], new Task('measurement-report-import', 1, () => {}));
    if (imported.instanceIds.length !== 1) {
      throw new AppError(ErrorCode.Internal, `The Measurement Report was written (${filePath}) but the library did not take it in.`, 'Import that file by hand (Import → files).');
    }
    const byKind: Record<string, number> = {};
    for (const w of written) byKind[w.kind] = (byKind[w.kind] ?? 0) + 1;
    const images = new Set(written.map((w) => w.sopInstanceUid)).size;
    this.deps.audit({
      actor: observer,
      action: 'measurements.sr.save',
      subject: { study: study.uid, instances: [...new Set(written.map((w) => w.sopInstanceUid))] },
      details: { document: sop, measurements: written.length, skipped: skipped.length },
    });
    return {
      sopInstanceUid: sop,
      studyInstanceUid: study.uid,
      seriesInstanceUid: dataset.SeriesInstanceUID as string,
      instanceId: imported.instanceIds[0]!,
      filePath,
      written: written.length,
      byKind,
      images,
      skipped,
    };
  }

  /** Reads a Measurement Report (a file or an SR instance of the library) and saves its measurements on the referenced images. */
  async load(q: { path?: string; instanceId?: number }): Promise<MeasurementReportLoadResult> {
    let path = q.path;
    if (q.instanceId !== undefined) {
      const r = this.db.prepare('SELECT file_path AS path FROM instances WHERE id = ?').get(q.instanceId) as { path: string } | undefined;
      if (!r) throw new AppError(ErrorCode.NotFound, `Instance ${q.instanceId} is not in the library.`, 'Refresh the study list; it may have been removed.');
      path = r.path;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(path!);
    } catch (err) {
      throw new AppError(ErrorCode.NotFound, `The file ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, 'Check the path of the Measurement Report.');
    }
    let content;
    try {
      const ds = readNaturalized(bytes);
      if (!MEASUREMENT_REPORT_SOP_CLASS_UIDS.includes(ds.SOPClassUID as (typeof MEASUREMENT_REPORT_SOP_CLASS_UIDS)[number])) {
        throw new Error(`its SOP Class UID ${String(ds.SOPClassUID ?? 'is missing')} is not an Enhanced or Comprehensive SR`);
      }
      content = reportMeasurements(ds);
    } catch (err) {
      throw new AppError(ErrorCode.InvalidArgument, `${path} is not a DICOM Measurement Report (TID 1500): ${err instanceof Error ? err.message : String(err)}.`, 'Give an SR document written as a TID 1500 Measurement Report (e.g. by "Save as SR").');
    }
    const notRestored: SrMeasurementNote[] = [...content.unreadable];
    const restoredByKind: Record<string, number> = {};
    let restored = 0;
    let alreadyPresent = 0;
    const instanceOf = this.db.prepare('SELECT id, series_ref AS seriesId, number AS instanceNumber FROM instances WHERE sop_uid = ? AND copy_of IS NULL LIMIT 1');
    const images: MeasurementReportLoadResult['images'] = [];
    for (const m of content.measurements) {
      const inst = instanceOf.get(m.sopInstanceUid) as { id: number; seriesId: number; instanceNumber: number | null } | undefined;
      if (!inst) {
        notRestored.push({ sopInstanceUid: m.sopInstanceUid, kind: m.kind, reason: 'the referenced image is not in the library' });
        continue;
      }
      if (!images.some((i) => i.instanceId === inst.id)) images.push({ instanceId: inst.id, seriesId: inst.seriesId, instanceNumber: inst.instanceNumber });
      const existing = this.deps.measurements({ instanceId: inst.id });
      if (existing.some((e) => e.kind === m.kind && e.frame === m.frame && samePoints(m.kind, e.data.handles, m.data.handles))) {
        alreadyPresent++;
        continue;
      }
      try {
        this.deps.saveMeasurement({ instanceId: inst.id, frame: m.frame, kind: m.kind, data: m.data, stats: m.stats });
        restored++;
        restoredByKind[m.kind] = (restoredByKind[m.kind] ?? 0) + 1;
      } catch (err) {
        notRestored.push({ sopInstanceUid: m.sopInstanceUid, kind: m.kind, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    if (restored > 0) {
      this.deps.audit({
        actor: this.deps.actor(),
        action: 'measurements.sr.load',
        subject: { study: content.studyInstanceUid, instances: [...new Set(content.measurements.map((m) => m.sopInstanceUid))] },
        details: { document: content.sopInstanceUid, restored, alreadyPresent, notRestored: notRestored.length },
      });
    }
    return {
      sopInstanceUid: content.sopInstanceUid,
      studyInstanceUid: content.studyInstanceUid,
      found: content.measurements.length + content.unreadable.length,
      restored,
      restoredByKind,
      alreadyPresent,
      notRestored,
      images,
    };
  }
}

/**
 * The actor ("workstation:root@host") as a DICOM Person Name: a family-name component of letters, digits and
 * hyphens, then "^" (dciodvfy reads a name without "^" as the retired PN form, PS3.5 6.2).
 */
function personName(actor: string): string {
  return `${actor.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60) || 'MedImgShr'}^`;
}

function describeSkipped(skipped: SrMeasurementNote[]): string {
  const reasons = new Map<string, number>();
  for (const s of skipped) reasons.set(`${s.kind}: ${s.reason}`, (reasons.get(`${s.kind}: ${s.reason}`) ?? 0) + 1);
  return [...reasons].map(([r, n]) => `${n} × ${r}`).join('; ');
}
