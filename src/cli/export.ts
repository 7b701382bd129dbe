import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ExportFormat, ExportScope, GateCheck } from '../shared/api/export';
import type { TrustPanel } from '../shared/api/trust';
import { AppError, ErrorCode } from '../shared/errors';
import { dateInWords } from '../shared/words';
import { globalOptions } from './options';
import { openServices } from './services';
import { print, table } from './output';

/**
 * `medimgshr export`: the same gate as the app's Export dialog (src/node/export/service.ts, rule in
 * src/core/gates.ts). It prints the trust summary of the study first (record on the ledger, the
 * patient's credit score, consents, accesses, the verification of every image), then the gate's
 * checks; identifiable data (original DICOM, PNG with overlay text) leaves only when every image
 * is verified against the ledger now, or with --override-reason (recorded in the audit log).
 */

const FORMATS: Record<string, ExportFormat> = { anonymised: 'dicom-anonymised', anonymized: 'dicom-anonymised', 'dicom-anonymised': 'dicom-anonymised', original: 'dicom-original', 'dicom-original': 'dicom-original', png: 'png' };

const checkRows = (checks: GateCheck[]) => table([['', 'check', 'finding', 'what would change it'], ...checks.map((c) => [c.ok ? 'ok' : 'NO', c.code, c.message, c.remedy ?? ''])]);

/** The trust panel in a few lines, as the Export dialog shows it beside the gate. */
export function trustSummary(p: TrustPanel): string {
  const consents = p.consents.filter((c) => c.state === 'active');
  const granted = p.accesses.filter((a) => a.outcome === 'granted').length;
  const denied = p.accesses.length - granted;
  const rec = p.records.at(-1);
  return [
    'trust summary',
    `  ledger        : ${p.ledger.reachable ? `answered now (synced to block ${p.ledger.lastSyncedBlock ?? '?'})` : `UNREACHABLE: ${p.ledger.message ?? ''}`}`,
    `  record        : ${rec ? `version ${rec.version}, ${rec.leafCount} image(s), anchored ${dateInWords(rec.time) ?? '?'} by ${rec.institution.label ?? rec.institution.address}` : 'none: the study is not anchored on the ledger'}`,
    `  patient       : ${p.patient ? `${p.patient.account}, credit score ${p.patient.score ?? 'unknown'}` : 'no patient account known'}`,
    `  consents      : ${consents.length ? consents.map((c) => `${c.institution.label ?? c.institution.address} until ${dateInWords(c.expiresAt) ?? '?'}`).join('; ') : 'none active'}`,
    `  accesses      : ${granted} granted, ${denied} denied`,
    p.verification ? `  verification  : ${p.verification.state}: ${p.verification.message}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .argument('<studyUid>', 'Study Instance UID of an imported study (see "medimgshr studies")')
    .requiredOption('--out <folder>', 'destination folder; it must not exist (it appears only when the export is complete)')
    .option('--format <format>', 'anonymised (DICOM, PS3.15 Annex E), png, or original (identifiable DICOM)', 'anonymised')
    .option('--series <uid>', 'export only this series of the study')
    .option('--window <center,width>', 'PNG window (default: the file\'s own window)')
    .option('--override-reason <text>', 'export identifiable images that are not all verified; the reason is recorded in the audit log')
    .option('--check', 'only show the trust summary and the decision; write nothing')
    .description(
      "export a study through the same gate as the app: the trust summary of the study is printed first, then every check of the gate with its reason. Anonymised DICOM and PNG without overlay text may always leave; original DICOM identifies the patient and leaves only when every image is verified against the ledger now, or with --override-reason. Every export is recorded in the audit log. Refused: exit code 1 and what would change it.",
    )
    .action(async (studyUid: string, o: { out: string; format: string; series?: string; window?: string; overrideReason?: string; check?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const format = FORMATS[o.format.toLowerCase()];
      if (!format) throw new AppError(ErrorCode.InvalidArgument, `Unknown export format "${o.format}".`, 'Use anonymised, png or original.');
      let png: { windowCenter: number; windowWidth: number } | undefined;
      if (o.window) {
        const [c, w] = o.window.split(',').map(Number);
        if (!Number.isFinite(c) || !Number.isFinite(w) || !(w! > 0)) throw new AppError(ErrorCode.InvalidArgument, `"${o.window}" is not a window.`, 'Give --window <center>,<width>, for example --window 40,400.');
        png = { windowCenter: c!, windowWidth: w! };
      }
      const scope: ExportScope = o.series ? { seriesInstanceUid: o.series } : { studyInstanceUid: studyUid };
      const s = await openServices({ home, ledger: { mode: 'saved' }, ledgerService: { sync: { auto: false } } });
      try {
        await s.ledger.check();
        const panel = await s.trust.panel(studyUid, { verify: true });
        const decision = await s.export.check(scope, format, png);
        if (!o.check && (decision.allowed || o.overrideReason)) {
          const report = await s.tasks.run('export', null, (task) =>
            s.export.run({ scope, format, outDir: resolve(o.out), png, override: o.overrideReason ? { reason: o.overrideReason } : undefined }, task),
          );
          print(json, { exported: true, trust: panel, ...report }, () =>
            [trustSummary(panel), checkRows(report.decision.checks), `${report.message}`, `written to ${report.outDir}${report.notForDiagnosticUse ? ' (NOT FOR DIAGNOSTIC USE)' : ''}`].join('\n'),
          );
          return;
        }
        print(json, { exported: false, trust: panel, decision }, () =>
          [trustSummary(panel), checkRows(decision.checks), decision.allowed ? 'The export is allowed (nothing written: --check).' : `The export is NOT allowed${decision.overridable ? ' (it can be overridden with --override-reason <text>, recorded in the audit log)' : ''}.`].join('\n'),
        );
        if (!decision.allowed) process.exitCode = 1;
      } finally {
        await s.close();
      }
    });
}
