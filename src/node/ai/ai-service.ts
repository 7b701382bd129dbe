/**
 * The AI finding on an image or a study (issue 15), for the handler table, the CLI and the tests.
 * Collaborators come in narrow: the database, the model registry, where inference runs, where
 * current pixel digests come from, which files make a study, a logger. `createAi` wires the
 * defaults for the composition root.
 */
import { join } from 'node:path';
import { AI_DISCLAIMER, findingsOf, heatMapOf, quantiseHeatMap } from '../../core/ai/findings';
import { buildResultTree, type ResultTree } from '../../core/ai/result-record';
import { AppError, ErrorCode } from '../../shared/errors';
import type { PixelDecoder } from './dicom-input';
import type { Logger } from '../log';
import type { Db } from '../store/database';
import { AiError } from './errors';
import type { InferenceJob, Timings } from './inference';
import { createInferenceBackend, type InferenceBackend } from './inference-runner';
import { ModelRegistry, type InstalledModel, type ModelInspector } from './model-registry';
import { assessFreshness, FingerprintPixelDigests, type Freshness, type ModelLookup, type PixelDigestSource } from './provenance';
import { AiResultStore, resultRecord, type StoredResult } from './result-store';

/** The files of a study (the library index, or the fingerprint tables for files not imported). */
export interface StudyFiles {
  filesOfStudy(studyInstanceUid: string): string[];
}

export class IndexedStudyFiles implements StudyFiles {
  constructor(private readonly db: Db) {}
  filesOfStudy(uid: string): string[] {
    const rows = this.db
      .prepare(
        `SELECT i.file_path AS path FROM instances i JOIN series s ON i.series_ref = s.id JOIN studies st ON s.study_ref = st.id
          WHERE st.study_uid = ? AND i.copy_of IS NULL
         UNION SELECT path FROM fingerprint_files WHERE study_instance_uid = ? AND error_code IS NULL
           AND path NOT IN (SELECT file_path FROM instances WHERE copy_of IS NOT NULL)
         ORDER BY path`,
      )
      .all(uid, uid) as { path: string }[];
    return rows.map((r) => r.path);
  }
}

/** What a run needs of the project's Task (src/node/tasks.ts): cancel signal and progress. */
export interface RunProgress {
  readonly signal: AbortSignal;
  progress(update: { done?: number; failed?: number; total?: number | null; label?: string | null }, force?: boolean): void;
}

export interface RunOptions {
  /** Only this installed model (id or prefix); default every installed model. */
  modelId?: string;
  task?: RunProgress;
}

export interface RunReport {
  disclaimer: typeof AI_DISCLAIMER;
  results: (StoredResult & { timings: Timings })[];
  skipped: { path: string; sopInstanceUid: string | null; model: string; reason: string }[];
  failed: { path: string; sopInstanceUid: string | null; model: string; code: string; message: string }[];
  cancelled: boolean;
  ranIn: 'worker' | 'inline';
}

export type AssessedResult = StoredResult & { freshness: Freshness };

export interface StudyFindings {
  disclaimer: typeof AI_DISCLAIMER;
  studyInstanceUid: string;
  results: AssessedResult[];
}

export interface AiServiceDeps {
  db: Db;
  registry: ModelRegistry;
  results: AiResultStore;
  inference: InferenceBackend;
  pixelDigests: PixelDigestSource;
  studyFiles: StudyFiles;
  log?: Logger;
}

export class AiService {
  readonly registry: ModelRegistry;
  readonly results: AiResultStore;
  private readonly inference: InferenceBackend;
  private readonly pixelDigests: PixelDigestSource;
  private readonly studyFiles: StudyFiles;
  private readonly log?: Logger;

  constructor(d: AiServiceDeps) {
    this.registry = d.registry;
    this.results = d.results;
    this.inference = d.inference;
    this.pixelDigests = d.pixelDigests;
    this.studyFiles = d.studyFiles;
    this.log = d.log;
  }

  private models(modelId?: string): InstalledModel[] {
    const all = this.registry.requireAny(); // "no AI model is installed" — never a fake result
    const chosen = modelId ? [this.registry.get(modelId)] : all;
    for (const m of chosen) {
      if (!this.registry.verifyFiles(m).ok) {
        throw new AiError(
          'MODEL_FILE_CHANGED',
          ErrorCode.Tampered,
          `The installed files of ${m.name} ${m.version} no longer match the SHA-256 recorded when it was installed.`,
          'Remove the model (`medimgshr model remove`) and add it again from the clinic\'s validated copy.',
        );
      }
    }
    return chosen;
  }

  /** Runs every chosen model on each file; images a model does not accept are skipped with the reason. */
  async runFiles(paths: string[], o: RunOptions = {}): Promise<RunReport> {
    const models = this.models(o.modelId);
    const report: RunReport = { disclaimer: AI_DISCLAIMER, results: [], skipped: [], failed: [], cancelled: false, ranIn: this.inference.where };
    const total = paths.length * models.length;
    let done = 0;
    o.task?.progress({ done: 0, failed: 0, total, label: 'AI' }, true);
    // every (file, model) pair in order, so the backend can prepare the next image while this one is inferred
    const pairs = paths.flatMap((path) => models.map((m) => ({ path, m })));
    const knownDigests = new Map<string, string | null>();
    const knownOf = (path: string) => {
      if (!knownDigests.has(path)) knownDigests.set(path, this.pixelDigests.known(path));
      return knownDigests.get(path)!;
    };
    const jobOf = ({ path, m }: { path: string; m: InstalledModel }): InferenceJob => ({
      filePath: path,
      model: { id: m.id, modelPath: m.modelPath, modelSha256: m.modelSha256, card: m.card },
      computePixelDigest: knownOf(path) === null,
    });
    for (let k = 0; k < pairs.length; k++) {
      const { path, m } = pairs[k]!;
      const known = knownOf(path);
      if (o.task?.signal.aborted) {
        report.cancelled = true;
        break;
      }
      let outcome;
      try {
        outcome = await this.inference.run(jobOf(pairs[k]!), o.task?.signal, k + 1 < pairs.length ? jobOf(pairs[k + 1]!) : undefined);
      } catch (err) {
        if (err instanceof AppError && err.code === ErrorCode.Cancelled) {
          report.cancelled = true;
          break;
        }
        throw err;
      }
      done++;
      const sop = outcome.instance?.sopInstanceUid ?? null;
      if (outcome.kind === 'skipped') report.skipped.push({ path, sopInstanceUid: sop, model: m.id, reason: outcome.reason });
      else if (outcome.kind === 'failed') report.failed.push({ path, sopInstanceUid: sop, model: m.id, code: outcome.code, message: outcome.message });
      else if (!sop) report.failed.push({ path, sopInstanceUid: null, model: m.id, code: 'MALFORMED', message: 'The instance has no SOP Instance UID, so a finding cannot be bound to it.' });
      else {
        const heat = m.card.heatMap && outcome.heatMap ? quantiseHeatMap(heatMapOf(outcome.heatMap.values, outcome.heatMap.shape, m.card.heatMap.activation)) : null;
        const stored = this.results.save({
          sopInstanceUid: sop,
          studyInstanceUid: outcome.instance.studyInstanceUid,
          seriesInstanceUid: outcome.instance.seriesInstanceUid,
          filePath: path,
          model: { id: m.id, name: m.name, version: m.version, modelSha256: m.modelSha256, cardSha256: m.cardSha256 },
          preprocessing: outcome.preprocessing,
          window: { ...outcome.window, inverted: outcome.inverted },
          pixelSha256: known ?? outcome.pixelSha256!,
          pixelSource: known ? 'fingerprint' : 'computed',
          findings: findingsOf(outcome.output, m.card),
          output: outcome.output,
          heatMap: heat ? { ...heat, label: m.card.heatMap!.label ?? null } : null,
        });
        report.results.push({ ...stored, timings: outcome.timings });
      }
      // Every image reported (an inference takes tens of milliseconds at least, so this is no flood): a cancel
      // answers the image the user saw, not one a throttle hid.
      o.task?.progress({ done, failed: report.failed.length, label: path }, true);
    }
    o.task?.progress({ done, failed: report.failed.length }, true);
    this.log?.info('ai run', { files: paths.length, results: report.results.length, skipped: report.skipped.length, failed: report.failed.length, cancelled: report.cancelled });
    return report;
  }

  async runStudy(studyInstanceUid: string, o: RunOptions = {}): Promise<RunReport> {
    const files = this.studyFiles.filesOfStudy(studyInstanceUid);
    if (files.length === 0) {
      throw new AppError(ErrorCode.NotFound, `No files of study ${studyInstanceUid} are in the library.`, 'Import the study first (`medimgshr import <folder>`).');
    }
    return this.runFiles(files, o);
  }

  /** Each result with whether it is still current (image and model unchanged). */
  async assess(results: StoredResult[]): Promise<AssessedResult[]> {
    // hash each installed model's files once per call, not once per result
    const verified = new Map<string, ReturnType<ModelLookup['verifyFiles']>>();
    const models: ModelLookup = {
      find: (id) => this.registry.find(id),
      verifyFiles: (m) => {
        if (!verified.has(m.id)) verified.set(m.id, this.registry.verifyFiles(m));
        return verified.get(m.id)!;
      },
    };
    const out: AssessedResult[] = [];
    for (const r of results) out.push({ ...r, freshness: await assessFreshness(r, this.pixelDigests, models) });
    return out;
  }

  async studyFindings(studyInstanceUid: string): Promise<StudyFindings> {
    return { disclaimer: AI_DISCLAIMER, studyInstanceUid, results: await this.assess(this.results.forStudy(studyInstanceUid)) };
  }

  async fileFindings(path: string): Promise<AssessedResult[]> {
    return this.assess(this.results.forFile(path));
  }

  /**
   * The Merkle tree of a study's current results (stale ones are left out and counted), for
   * anchoring and for the sidecar.
   */
  async studyTree(studyInstanceUid: string): Promise<{ tree: ResultTree; excludedStale: number }> {
    const assessed = await this.assess(this.results.forStudy(studyInstanceUid));
    const current = assessed.filter((r) => r.freshness.state === 'current');
    if (current.length === 0) {
      throw new AppError(ErrorCode.NotFound, `Study ${studyInstanceUid} has no current AI results.`, 'Run the model on the study first (`medimgshr model run --study <UID>`).');
    }
    return { tree: buildResultTree(current.map(resultRecord)), excludedStale: assessed.length - current.length };
  }

  /**
   * The JSON sidecar that travels with an exported or shared study (docs/ai.md): each current
   * result's record and Merkle proof, the study's root, the disclaimer. Identifiers: SOP Instance
   * UIDs (the sidecar travels with the DICOM files, which carry them anyway).
   */
  async sidecar(studyInstanceUid: string): Promise<AiSidecar> {
    const { tree, excludedStale } = await this.studyTree(studyInstanceUid);
    const assessed = (await this.assess(this.results.forStudy(studyInstanceUid))).filter((r) => r.freshness.state === 'current');
    return {
      format: 'medimgshr-ai-sidecar/1',
      disclaimer: AI_DISCLAIMER,
      studyInstanceUid,
      merkleRoot: tree.root,
      leafEncoding: ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'bytes32'],
      excludedStale,
      results: assessed.map((r) => {
        const record = resultRecord(r);
        const leaf = tree.proofs.find((p) => p.leaf[4] === `0x${r.recordSha256}` && p.leaf[0] === `0x${record.uidHash}`)!;
        return {
          sopInstanceUid: r.sopInstanceUid,
          record,
          recordSha256: r.recordSha256,
          leaf: leaf.leaf,
          proof: leaf.proof,
          heatMap: r.heatMap ? { width: r.heatMap.width, height: r.heatMap.height, min: r.heatMap.min, max: r.heatMap.max, label: r.heatMap.label, uint8Base64: Buffer.from(r.heatMap.bytes).toString('base64') } : null,
        };
      }),
    };
  }

  close(): Promise<void> {
    return this.inference.close();
  }
}

export interface AiSidecar {
  format: 'medimgshr-ai-sidecar/1';
  disclaimer: typeof AI_DISCLAIMER;
  studyInstanceUid: string;
  merkleRoot: string;
  leafEncoding: string[];
  excludedStale: number;
  results: {
    sopInstanceUid: string;
    record: ReturnType<typeof resultRecord>;
    recordSha256: string;
    leaf: string[];
    proof: string[];
    heatMap: { width: number; height: number; min: number; max: number; label: string | null; uint8Base64: string } | null;
  }[];
}

export interface CreateAiOptions {
  db: Db;
  /** <app data>; models go to <appData>/ai-models */
  appDataDir: string;
  log?: Logger;
  decode: PixelDecoder;
  /** Loads a model once and reads its signature (onnx-runtime.ts inspectModel). */
  inspect: ModelInspector;
  /** The current pixel digest of a file, computed (fingerprint spec) when the tables have none. */
  computePixelDigest: (path: string) => Promise<string | null>;
  /** 0 = run inference in the calling thread (default: one worker thread when the bundle is built). */
  threads?: number;
  intraOpThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  studyFiles?: StudyFiles;
}

/** Wires the AI domain for the composition root (and the CLI and tests). */
export function createAi(o: CreateAiOptions): AiService {
  return new AiService({
    db: o.db,
    registry: new ModelRegistry(o.db, join(o.appDataDir, 'ai-models'), o.inspect, o.log),
    results: new AiResultStore(o.db),
    inference: createInferenceBackend(o.decode, { threads: o.threads, intraOpThreads: o.intraOpThreads, executionMode: o.executionMode }),
    pixelDigests: new FingerprintPixelDigests(o.db, o.computePixelDigest),
    studyFiles: o.studyFiles ?? new IndexedStudyFiles(o.db),
    log: o.log,
  });
}
