/**
 * Export of a study, series or image (docs/trust-and-sharing.md "Export"):
 *
 *   dicom-anonymised  PS3.15 Annex E (anonymiseExport); burned-in annotation needs the override
 *   dicom-original    the files as they are: identifiable
 *   png               the viewer's window/level, optional overlay text (identifying → identifiable),
 *                     the image's stored measurements drawn with their labels (the one value of
 *                     src/shared/viewer/measure.ts), always marked NOT FOR DIAGNOSTIC USE (an 8-bit
 *                     windowed rendering is lossy); named after the series and slice:
 *                     series-<Series Number>-<Modality>/slice-<Instance Number>[-frame-<n>].png
 *                     (no Series Description: free text that may identify, PS3.15 Annex E)
 *
 * Gate: identifiable data needs every instance verified against the ledger now, or an override with a
 * typed reason (audit entry `override`). Every export — anonymised too — is an audit entry. It runs as
 * a task (kind 'export') with progress, writes into a staging folder that becomes the destination only
 * when complete (src/node/atomic.ts), and returns a report.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { anonymiseExport } from '../dicom/anonymise';
import type { AppContext } from '../context';
import type { Task } from '../tasks';
import type { TrustService } from '../trust';
import type { ExportDecision, ExportFormat, ExportReport, ExportRequest, ExportScope, PngOptions } from '../../shared/api/export';
import type { InstanceVerification } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import { atomicExport } from '../atomic';
import { exportGate, isIdentifiable } from '../../core/gates';
import { renderPng, NOT_FOR_DIAGNOSTIC_USE, type PngAnnotation } from './png';
import { measure, type PixelSpacing } from '../../shared/viewer/measure';

/** A measurement as burned into a PNG and listed in its export report. */
export interface ExportedMeasurement {
  id: number;
  uuid: string | null;
  kind: string;
  value: number | null;
  unit: string | null;
  text: string;
}

/** Label of a stored ROI / probe measurement from its stored statistics. */
function roiText(kind: string, stats: Record<string, unknown>): string {
  const n = (v: unknown, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
  const u = typeof stats.unit === 'string' && stats.unit ? ` ${stats.unit}` : '';
  if (kind === 'probe') return `${n(stats.value)}${u}`;
  return `mean ${n(stats.mean)}${u} SD ${n(stats.sd)}`;
}

function pointsOf(handles: unknown, names: string[]): { x: number; y: number }[] {
  const h = (handles ?? {}) as Record<string, { x?: unknown; y?: unknown } | undefined>;
  return names.map((k) => h[k]).filter((p): p is { x: number; y: number } => !!p && typeof p.x === 'number' && typeof p.y === 'number');
}

/** The drawable form of an image's stored measurements: a length / angle re-measured from its handles. */
export function annotationsOf(rows: { id: number; kind: string; data: string; stats: string }[], spacing: PixelSpacing): { drawn: PngAnnotation[]; listed: ExportedMeasurement[] } {
  const drawn: PngAnnotation[] = [];
  const listed: ExportedMeasurement[] = [];
  for (const r of rows) {
    let data: Record<string, unknown>, stats: Record<string, unknown>;
    try {
      data = JSON.parse(r.data) as Record<string, unknown>;
      stats = JSON.parse(r.stats) as Record<string, unknown>;
    } catch {
      continue;
    }
    const uuid = typeof data.uuid === 'string' ? data.uuid : null;
    if (r.kind === 'length' || r.kind === 'angle') {
      const m = measure(r.kind, data.handles, spacing);
      if (!m) continue; // incomplete: never exported
      drawn.push({ shape: 'polyline', points: pointsOf(data.handles, r.kind === 'length' ? ['start', 'end'] : ['start', 'middle', 'end']), text: m.text });
      listed.push({ id: r.id, uuid, kind: r.kind, value: m.value, unit: m.unit, text: m.text });
    } else if (r.kind === 'rectangleRoi' || r.kind === 'ellipticalRoi' || r.kind === 'probe') {
      const text = roiText(r.kind, stats);
      const shape = r.kind === 'rectangleRoi' ? 'rect' : r.kind === 'ellipticalRoi' ? 'ellipse' : 'point';
      drawn.push({ shape, points: pointsOf(data.handles, r.kind === 'probe' ? ['end'] : ['start', 'end']), text });
      listed.push({ id: r.id, uuid, kind: r.kind, value: null, unit: typeof stats.unit === 'string' ? stats.unit : null, text });
    }
  }
  return { drawn, listed };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '').slice(0, 16);

export interface ExportItem {
  instanceId: number;
  path: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  frames: number;
  seriesNumber: number | null;
  instanceNumber: number | null;
  modality: string | null;
  pixelSpacing: string | null;
}

const SELECT = `SELECT i.id AS instanceId, i.file_path AS path, i.sop_uid AS sopInstanceUid, se.series_uid AS seriesInstanceUid,
  st.study_uid AS studyInstanceUid, i.frames AS frames, se.number AS seriesNumber, i.number AS instanceNumber, se.modality AS modality,
  i.pixel_spacing AS pixelSpacing FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id`;
const ORDER = 'ORDER BY st.id, se.number, se.id, i.number, i.id';

export class ExportService {
  constructor(
    private readonly deps: {
      ctx: AppContext;
      trust: TrustService;
      /** The study's current AI findings as the JSON sidecar (docs/ai.md), null when it has none. */
      aiSidecar?: (studyInstanceUid: string) => Promise<unknown>;
    },
  ) {}

  /** The stored measurements of one image (instance + frame), as drawn on its PNG. */
  private measurementsOf(it: ExportItem, frame: number): ReturnType<typeof annotationsOf> {
    const rows = this.deps.ctx.db.prepare('SELECT id, kind, data, stats FROM measurements WHERE sop_uid = ? AND frame = ? ORDER BY id').all(it.sopInstanceUid, frame) as {
      id: number;
      kind: string;
      data: string;
      stats: string;
    }[];
    let spacing: PixelSpacing = null;
    try {
      spacing = it.pixelSpacing ? (JSON.parse(it.pixelSpacing) as number[]) : null;
    } catch {
      spacing = null;
    }
    return annotationsOf(rows, spacing);
  }

  /** The library instances a scope covers, in series/instance order. */
  items(scope: ExportScope): ExportItem[] {
    const db = this.deps.ctx.db;
    let rows: ExportItem[];
    let what: string;
    if ('studyInstanceUid' in scope) {
      rows = db.prepare(`${SELECT} WHERE st.study_uid = ? AND i.copy_of IS NULL ${ORDER}`).all(scope.studyInstanceUid) as ExportItem[];
      what = `study ${scope.studyInstanceUid}`;
    } else if ('seriesInstanceUid' in scope) {
      rows = db.prepare(`${SELECT} WHERE se.series_uid = ? AND i.copy_of IS NULL ${ORDER}`).all(scope.seriesInstanceUid) as ExportItem[];
      what = `series ${scope.seriesInstanceUid}`;
    } else {
      const ids = [...new Set(scope.instanceIds)];
      rows = db.prepare(`${SELECT} WHERE i.id IN (${ids.map(() => '?').join(',')}) ${ORDER}`).all(...ids) as ExportItem[];
      if (rows.length !== ids.length) {
        const have = new Set(rows.map((r) => r.instanceId));
        throw new AppError(ErrorCode.NotFound, `Image ${ids.find((i) => !have.has(i))} is not in the library.`, 'Reload the study; it may have been removed.');
      }
      what = `${ids.length} image(s)`;
    }
    if (rows.length === 0) throw new AppError(ErrorCode.NotFound, `Nothing to export: ${what} is not in the library.`, 'Import it first.');
    return rows;
  }

  static identifiable(format: ExportFormat, png?: PngOptions): boolean {
    return isIdentifiable(format, png?.overlayText ?? []);
  }

  /** The gate's decision for the Export dialog (every image verified against the ledger now); the rule is src/core/gates.ts. */
  async check(scope: ExportScope, format: ExportFormat, png?: PngOptions): Promise<ExportDecision> {
    return (await this.evaluate(this.items(scope), format, png)).decision;
  }

  /**
   * The decision and each image's verification. Images verified moments ago (the dialog's check)
   * are not asked again (Verifier.verifyImages, reuseRecent).
   */
  private async evaluate(items: ExportItem[], format: ExportFormat, png?: PngOptions): Promise<{ decision: ExportDecision; verifications: InstanceVerification[] }> {
    const identifiable = ExportService.identifiable(format, png);
    const v = await this.deps.trust.ledger.verifier.verifyImages(
      items.map((i) => ({ path: i.path, instanceId: i.instanceId })),
      { reuseRecent: true },
    );
    const counts = v.counts;
    const { allowed, overridable, checks } = exportGate({ format, identifiable, instances: items.length, counts });
    return { decision: { format, identifiable, allowed, overridable, instances: items.length, counts, checks }, verifications: v.instances };
  }

  async run(req: ExportRequest, task?: Task): Promise<ExportReport> {
    const t0 = Date.now();
    const trust = this.deps.trust;
    const items = this.items(req.scope);
    task?.progress({ total: items.length, done: 0, label: 'verifying the images against the ledger' }, true);
    const { verifications, decision } = await this.evaluate(items, req.format, req.png);
    const overrideReason = req.override?.reason.trim() || null;
    if (!decision.allowed && !overrideReason) {
      const failed = decision.checks.filter((c) => !c.ok);
      throw new AppError(ErrorCode.Denied, `Export refused: ${failed.map((c) => c.message).join(' ')}`, failed.map((c) => c.remedy).filter(Boolean).join(' '));
    }
    const actor = trust.actor();
    const studies = [...new Set(items.map((i) => i.studyInstanceUid))];
    const subject = {
      study: studies.length === 1 ? studies[0] : undefined,
      series: 'seriesInstanceUid' in req.scope ? req.scope.seriesInstanceUid : undefined,
      instances: items.map((i) => i.sopInstanceUid),
    };
    const cleanSubject = Object.fromEntries(Object.entries(subject).filter(([, v]) => v !== undefined));
    const auditSeqs: number[] = [];
    const overriding = !decision.allowed && overrideReason !== null;
    if (overriding) {
      const e = trust.appendAudit({
        actor,
        action: 'override',
        subject: cleanSubject,
        reason: overrideReason,
        details: { rule: 'identifiable export of images that are not all verified', format: req.format, counts: decision.counts },
      });
      auditSeqs.push(e.seq);
    }
    const written: ExportReport['written'] = [];
    const measurementsByFile: Record<string, ExportedMeasurement[]> = {};
    const skipped: ExportReport['skipped'] = [];
    const notForDiagnosticUse = req.format === 'png';
    try {
      if (req.format === 'dicom-anonymised') {
        const rep = await anonymiseExport({
          files: items.map((i) => i.path),
          outDir: req.outDir,
          override: overrideReason ? { burnedInAnnotation: { reason: overrideReason } } : undefined,
          signal: task?.signal,
          onProgress: (done) => task?.progress({ done }),
        });
        for (const w of rep.written) written.push({ output: w.output, sopInstanceUid: null });
        for (const sk of rep.skipped) skipped.push({ source: sk.source, code: sk.code, reason: sk.reason });
      } else {
        await atomicExport(
          req.outDir,
          async (staging, signal) => {
            const series = new Map<string, string>();
            const counters = new Map<string, number>();
            let done = 0;
            for (const it of items) {
              if (signal?.aborted) throw new AppError(ErrorCode.Cancelled, 'The export was cancelled; nothing was written.');
              let dir = series.get(it.seriesInstanceUid);
              if (!dir) {
                const ordinal = String(series.size + 1).padStart(3, '0');
                dir =
                  req.format === 'png'
                    ? `series-${it.seriesNumber !== null ? String(it.seriesNumber).padStart(3, '0') : ordinal}${it.modality ? `-${safeName(it.modality)}` : ''}`
                    : `series-${ordinal}`;
                // two series with the same number (and modality) stay apart
                if ([...series.values()].includes(dir)) dir = `${dir}-${ordinal}`;
                series.set(it.seriesInstanceUid, dir);
                await mkdir(join(staging, dir), { recursive: true });
              }
              const k = (counters.get(dir) ?? 0) + 1;
              counters.set(dir, k);
              try {
                const bytes = await readFile(it.path);
                if (req.format === 'dicom-original') {
                  const rel = `${dir}/image-${String(k).padStart(4, '0')}.dcm`;
                  await writeFile(join(staging, rel), bytes, { flag: 'wx' });
                  written.push({ output: rel, sopInstanceUid: it.sopInstanceUid });
                } else {
                  const frame = Math.min(req.png?.frame ?? 0, Math.max(0, it.frames - 1));
                  const slice = String(it.instanceNumber ?? k).padStart(4, '0');
                  let rel = `${dir}/slice-${slice}${it.frames > 1 ? `-frame-${frame + 1}` : ''}.png`;
                  if (written.some((w) => w.output === rel)) rel = rel.replace(/\.png$/, `-${k}.png`); // repeated Instance Numbers
                  const ann = req.png?.measurements === false ? { drawn: [], listed: [] } : this.measurementsOf(it, frame);
                  const r = await renderPng(bytes, {
                    windowCenter: req.png?.windowCenter ?? null,
                    windowWidth: req.png?.windowWidth ?? null,
                    overlayText: req.png?.overlayText,
                    frame,
                    annotations: ann.drawn,
                    notForDiagnosticUse: true,
                  });
                  if (ann.listed.length) measurementsByFile[rel] = ann.listed;
                  await writeFile(join(staging, rel), r.png, { flag: 'wx' });
                  written.push({ output: rel, sopInstanceUid: ExportService.identifiable(req.format, req.png) ? it.sopInstanceUid : null });
                }
              } catch (err) {
                if (err instanceof AppError && err.code === ErrorCode.Cancelled) throw err;
                skipped.push({ source: it.path, code: 'UNREADABLE', reason: err instanceof Error ? err.message : String(err) });
              }
              task?.progress({ done: ++done, failed: skipped.length });
            }
            if (written.length === 0) throw new AppError(ErrorCode.Unreadable, `Nothing could be exported (${skipped[0]?.reason ?? 'no images'}); nothing was written.`, 'Check the reasons in the report.');
            // Original DICOM carries each study's current AI findings as a JSON sidecar (docs/ai.md). Not PNG or
            // anonymised exports: the sidecar binds results to SOP Instance UIDs and their hashes, which would re-identify.
            const aiFindings: string[] = [];
            if (req.format === 'dicom-original' && this.deps.aiSidecar) {
              for (const [n, uid] of studies.entries()) {
                const sidecar = await this.deps.aiSidecar(uid);
                if (!sidecar) continue;
                const rel = studies.length === 1 ? 'ai-findings.json' : `ai-findings-${n + 1}.json`;
                await writeFile(join(staging, rel), JSON.stringify(sidecar, null, 2) + '\n', { flag: 'wx' });
                aiFindings.push(rel);
              }
            }
            const report = {
              format: req.format,
              created: new Date().toISOString(),
              files: written.map((w) => w.output),
              skipped: skipped.length,
              verification: decision.counts,
              override: overriding ? overrideReason : null,
              marking: notForDiagnosticUse ? NOT_FOR_DIAGNOSTIC_USE : null,
              ...(req.format === 'png' ? { measurements: measurementsByFile } : {}),
              ...(aiFindings.length ? { aiFindings } : {}),
            };
            await writeFile(join(staging, 'export-report.json'), JSON.stringify(report, null, 2));
          },
          { signal: task?.signal },
        );
      }
    } catch (err) {
      // A failed export is audited too (nothing was written).
      trust.appendAudit({ actor, action: `export.failed`, subject: cleanSubject, details: { format: req.format, error: err instanceof Error ? err.message : String(err) } });
      throw err;
    }
    const action = req.format === 'dicom-anonymised' ? 'export.anonymised' : req.format === 'dicom-original' ? 'export.original' : 'export.png';
    const e = trust.appendAudit({
      actor,
      action,
      subject: cleanSubject,
      reason: overriding ? overrideReason : null,
      details: {
        outDir: req.outDir,
        written: written.length,
        skipped: skipped.length,
        identifiable: decision.identifiable,
        verification: decision.counts,
        overridden: overriding,
        window: req.format === 'png' ? { center: req.png?.windowCenter ?? null, width: req.png?.windowWidth ?? null } : null,
        overlay: req.format === 'png' ? (req.png?.overlayText?.length ?? 0) > 0 : null,
        states: verifications.map((v) => v.state),
      },
    });
    auditSeqs.push(e.seq);
    return {
      format: req.format,
      outDir: req.outDir,
      written,
      skipped,
      decision,
      overridden: overriding,
      auditSeqs,
      notForDiagnosticUse,
      seconds: (Date.now() - t0) / 1000,
      message: `Exported ${written.length} of ${items.length} image(s) as ${req.format}${skipped.length ? `; ${skipped.length} skipped` : ''}${overriding ? ' (override recorded in the audit log)' : ''}.`,
    };
  }
}
