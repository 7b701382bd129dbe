/**
 * Measurements as a DICOM SR from the command line (docs/measurements-sr.md):
 *   medimgshr measurements sr save --study <UID> [--series <UID>]   write the saved measurements as a TID 1500 Measurement Report
 *   medimgshr measurements sr load <file>                             save a report's measurements on the referenced images again
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError, ErrorCode } from '../shared/errors';
import type { MeasurementReportLoadResult, MeasurementReportSaveResult } from '../shared/api/measurements-sr';
import type { Services } from '../node/services';
import { globalOptions } from './options';
import { openServices } from './services';
import { print } from './output';

function seriesIdOf(s: Services, studyId: number, uid: string): number {
  const r = s.db.prepare('SELECT id FROM series WHERE series_uid = ? AND study_ref = ?').get(uid.trim(), studyId) as { id: number } | undefined;
  if (!r) throw new AppError(ErrorCode.NotFound, `The study has no series ${uid} in the library.`, 'Give the Series Instance UID of one of its series (see `medimgshr series <study>`).');
  return r.id;
}

const kinds = (byKind: Record<string, number>) =>
  Object.entries(byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');

function humanSave(r: MeasurementReportSaveResult): string {
  const lines = [`Saved Measurement Report ${r.sopInstanceUid}: ${r.written} measurement(s) (${kinds(r.byKind)}) on ${r.images} image(s); it is in the library as an instance of the study.`, `  file ${r.filePath}`];
  for (const k of r.skipped) lines.push(`  not written: ${k.kind} on ${k.sopInstanceUid} — ${k.reason}`);
  return lines.join('\n');
}

function humanLoad(r: MeasurementReportLoadResult): string {
  const lines = [
    `Measurement Report ${r.sopInstanceUid}: ${r.found} measurement(s); ${r.restored} restored${r.restored ? ` (${kinds(r.restoredByKind)})` : ''}, ${r.alreadyPresent} already saved, ${r.notRestored.length} not restored.`,
  ];
  for (const k of r.notRestored) lines.push(`  not restored: ${k.kind} on ${k.sopInstanceUid || '(no image)'} — ${k.reason}`);
  return lines.join('\n');
}

export function registerMeasurements(program: Command): void {
  const m = program.command('measurements').description('saved measurements (lengths, angles, ROIs) of the library');
  const sr = m.command('sr').description('measurements as a DICOM Structured Report (TID 1500 Measurement Report) that other viewers and PACS read');

  const run = async (cmd: Command, fn: (s: Services) => Promise<{ value: unknown; human: () => string }>) => {
    const { json, home } = globalOptions(cmd);
    const s = await openServices({ home, ledger: { mode: 'none' } });
    try {
      const out = await fn(s);
      print(json, out.value, out.human);
    } finally {
      await s.close();
    }
  };

  sr.command('save')
    .description("write the study's (or one series') saved measurements as a TID 1500 Measurement Report: a new SR series of the study, added to the library")
    .requiredOption('--study <uid>', 'Study Instance UID of an imported study')
    .option('--series <uid>', 'only the measurements of this series (Series Instance UID)')
    .action((o: { study: string; series?: string }, cmd: Command) =>
      run(cmd, async (s) => {
        const st = s.library.studyByUid(o.study.trim());
        if (!st) throw new AppError(ErrorCode.NotFound, `The study ${o.study} is not in the library.`, 'Give the Study Instance UID of an imported study (see `medimgshr studies`), or import it first.');
        const r = await s.measurementsSr.save(o.series ? { seriesId: seriesIdOf(s, st.id, o.series) } : { studyId: st.id });
        return { value: r, human: () => humanSave(r) };
      }),
    );

  sr.command('load')
    .description('read a TID 1500 Measurement Report and save its measurements on the referenced images of the library (ones already saved are left alone)')
    .argument('<file>', 'the SR file')
    .action((file: string, _o: unknown, cmd: Command) =>
      run(cmd, async (s) => {
        const r = await s.measurementsSr.load({ path: resolve(file) });
        return { value: r, human: () => humanLoad(r) };
      }),
    );
}
