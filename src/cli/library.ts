import type { Command } from 'commander';
import { resolve } from 'node:path';
import { writeSampleSeries } from '../node/dicom/sample';
import type { ImportReport, SortKey } from '../shared/api/library';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { withServices } from './services';
import { print, table } from './output';

function humanReport(r: ImportReport): string {
  const lines = [
    `${r.added} added, ${r.updated} updated, ${r.unchanged} unchanged, ${r.rejected.length} rejected — ${r.scanned} files in ${r.seconds.toFixed(1)} s (${Math.round(r.rate)} files/s)${r.cancelled ? ' — CANCELLED' : ''}`,
  ];
  if (r.dicomdirs.length) lines.push(`DICOMDIRs read: ${r.dicomdirs.length}`);
  if (r.updatedPaths.length) lines.push('', 'changed since the last import (re-indexed):', ...r.updatedPaths.map((p) => `  ${p}`));
  if (r.added + r.updated + r.unchanged === 0) lines.push('Nothing was imported.');
  if (r.rejected.length) {
    lines.push('', 'not imported:');
    for (const x of r.rejected) lines.push(`  ${x.path}`, `      ${x.code}: ${x.reason}`);
  }
  return lines.join('\n');
}

/** Commands of the library domain: import, sample, studies. */
export function registerLibrary(program: Command): void {
  program
    .command('import')
    .description(
      'import DICOM files, folders (searched recursively) and DICOMDIRs into the library index. ' +
        'Files stay where they are; the report lists every file that was not imported and why.',
    )
    .argument('<paths...>', 'files, folders or DICOMDIR files')
    .action(async (paths: string[], _opts, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const report = await withServices(home, async (s) => {
        const { library } = s;
        const showProgress = !json && process.stderr.isTTY;
        if (showProgress) {
          s.events.on('event', (e) => {
            if (e.type === 'progress' && e.kind === 'import' && !e.finished) {
              process.stderr.write(`\r  ${e.done}${e.total ? `/${e.total}` : ''} files, ${e.failed} rejected, ${Math.round(e.rate ?? 0)} files/s   `);
            }
          });
        }
        const onSigint = () => {
          for (const t of s.tasks.list()) t.cancel();
        };
        process.once('SIGINT', onSigint);
        try {
          const report = await s.tasks.run('import', null, (task) => library.import(paths.map((p) => resolve(p)), task));
          // the CLI finishes the content hashes before it exits, so its index is complete
          if (!report.cancelled) await s.tasks.run('hash', null, (task) => library.hashPending(task));
          return report;
        } finally {
          process.off('SIGINT', onSigint);
          if (showProgress) process.stderr.write('\n');
        }
      });
      print(json, report, () => humanReport(report));
      // Nothing imported and nothing already there (missing paths, only non-DICOM or damaged files): a failure.
      if (report.added + report.updated + report.unchanged === 0) process.exitCode = 1;
    });

  program
    .command('sample')
    .description('write a synthetic sample series (clearly marked SYNTHETIC — not a patient): a CT chest phantom or an MR head phantom')
    .requiredOption('--out <folder>', 'folder to write the files into (created if needed)')
    .option('--slices <n>', 'number of slices', '64')
    .option('--kind <kind>', 'ct (512×512, HU) or mr (256×256)', 'ct')
    .option('--seed <n>', 'seed for identical output on every run')
    .action(async (opts: { out: string; slices: string; kind: string; seed?: string }, cmd: Command) => {
      const { json } = globalOptions(cmd);
      const slices = Number(opts.slices);
      if (!Number.isInteger(slices) || slices < 1 || slices > 100_000) throw new AppError(ErrorCode.InvalidArgument, '--slices must be a whole number from 1 to 100000.');
      if (opts.kind !== 'ct' && opts.kind !== 'mr') throw new AppError(ErrorCode.InvalidArgument, '--kind must be ct or mr.');
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (seed !== undefined && !Number.isInteger(seed)) throw new AppError(ErrorCode.InvalidArgument, '--seed must be a whole number.');
      const t0 = Date.now();
      const r = await writeSampleSeries({ outDir: resolve(opts.out), slices, kind: opts.kind, seed });
      const seconds = (Date.now() - t0) / 1000;
      print(json, { ...r, seconds }, () => `${r.files.length} synthetic ${opts.kind.toUpperCase()} slices written to ${resolve(opts.out)} in ${seconds.toFixed(1)} s\nstudy  ${r.studyInstanceUid}\nseries ${r.seriesInstanceUid}`);
    });

  program
    .command('studies')
    .description('list the studies in the library index')
    .option('--search <text>', 'only studies whose patient name, ID, description, accession or modality contains this')
    .option('--sort <key>', 'name, id, date or modality', 'date')
    .action(async (opts: { search?: string; sort: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (!['name', 'id', 'date', 'modality'].includes(opts.sort)) throw new AppError(ErrorCode.InvalidArgument, '--sort must be name, id, date or modality.');
      const r = await withServices(home, async (s) => s.library.studies({ search: opts.search, sort: opts.sort as SortKey, limit: 5000 }));
      print(json, r, () =>
        r.studies.length === 0
          ? 'The library is empty. Import files with: medimgshr import <folder>'
          : table([
              ['id', 'patient', 'patient ID', 'date', 'modality', 'series', 'images', 'description', 'Study Instance UID'],
              ...r.studies.map((st) => [
                String(st.id),
                st.patient.name,
                st.patient.patientId,
                st.date ?? '',
                st.modalities.join('/'),
                String(st.seriesCount),
                String(st.instanceCount),
                (st.synthetic ? '[SYNTHETIC] ' : '') + (st.description ?? ''),
                st.studyInstanceUid,
              ]),
            ]),
      );
    });
}
