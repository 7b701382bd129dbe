/**
 * Export of a study, series or image (docs/trust-and-sharing.md "Export"):
 *
 *   dicom-anonymised  PS3.15 Annex E (anonymiseExport); burned-in annotation needs the override
 *   dicom-original    the files as they are: identifiable
 *   png               the viewer's window/level, optional overlay text (identifying → identifiable),
 *                     always marked NOT FOR DIAGNOSTIC USE (an 8-bit windowed rendering is lossy)
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
import { renderPng, NOT_FOR_DIAGNOSTIC_USE } from './png';

export interface ExportItem {
  instanceId: number;
  path: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  frames: number;
}

const SELECT = `SELECT i.id AS instanceId, i.file_path AS path, i.sop_uid AS sopInstanceUid, se.series_uid AS seriesInstanceUid,
  st.study_uid AS studyInstanceUid, i.frames AS frames FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id`;
const ORDER = 'ORDER BY st.id, se.number, se.id, i.number, i.id';

export class ExportService {
  constructor(private readonly deps: { ctx: AppContext; trust: TrustService }) {}

  /** The library instances a scope covers, in series/instance order. */
  items(scope: ExportScope): ExportItem[] {
    const db = this.deps.ctx.db;
    let rows: ExportItem[];
    let what: string;
    if ('studyInstanceUid' in scope) {
      rows = db.prepare(`${SELECT} WHERE st.study_uid = ? ${ORDER}`).all(scope.studyInstanceUid) as ExportItem[];
      what = `study ${scope.studyInstanceUid}`;
    } else if ('seriesInstanceUid' in scope) {
      rows = db.prepare(`${SELECT} WHERE se.series_uid = ? ${ORDER}`).all(scope.seriesInstanceUid) as ExportItem[];
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
                dir = `series-${String(series.size + 1).padStart(3, '0')}`;
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
                  const rel = `${dir}/image-${String(k).padStart(4, '0')}.png`;
                  const r = await renderPng(bytes, {
                    windowCenter: req.png?.windowCenter ?? null,
                    windowWidth: req.png?.windowWidth ?? null,
                    overlayText: req.png?.overlayText,
                    frame: Math.min(req.png?.frame ?? 0, Math.max(0, it.frames - 1)),
                    notForDiagnosticUse: true,
                  });
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
            const report = {
              format: req.format,
              created: new Date().toISOString(),
              files: written.map((w) => w.output),
              skipped: skipped.length,
              verification: decision.counts,
              override: overriding ? overrideReason : null,
              marking: notForDiagnosticUse ? NOT_FOR_DIAGNOSTIC_USE : null,
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
