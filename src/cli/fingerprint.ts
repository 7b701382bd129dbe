import type { Command } from 'commander';
import { FINGERPRINT_SPEC_ID } from '../core/fingerprint';
import { FingerprintEngine } from '../node/fingerprint/engine';
import type { FingerprintFileError, InstanceFingerprint } from '../shared/api/fingerprint';
import { openDatabase } from '../node/store/database';
import { globalOptions } from './options';
import { openServices } from './services';
import { print, table } from './output';

const short = (h: string | null) => (h ? h.replace(/^0x/, '').slice(0, 16) : '-');

function errorLines(errors: FingerprintFileError[]): string[] {
  return errors.map((e) => `  ${e.path}\n    ${e.reject ?? e.code}: ${e.message}${e.hint ? `\n    what to do: ${e.hint}` : ''}`);
}

/** Commands of the fingerprint domain. */
export function registerFingerprint(program: Command): void {
  program
    .command('fingerprint')
    .argument('<paths...>', 'DICOM files or folders (folders are searched recursively)')
    .description(
      `compute the fingerprints of DICOM files (${FINGERPRINT_SPEC_ID}, see docs/fingerprint-spec.md): ` +
        'for each image its pixel, metadata and file SHA-256 digests, and for each study the Merkle root ' +
        'that is recorded on the ledger. Results are kept in the app-data folder; unchanged files are not ' +
        'read again. A file that cannot be read is reported and the others go on (exit code 1 if any failed).',
    )
    .option('--force', 'recompute every file even if it did not change')
    .option('--threads <n>', 'worker threads (default: one per processor core; 0 = none)')
    .action(async (paths: string[], opts: { force?: boolean; threads?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const threads = opts.threads === undefined ? undefined : Number(opts.threads);
      const s = await openServices({ home, ledger: { mode: 'none' }, fingerprint: { threads } });
      try {
        const engine = s.fingerprints;
        const run = await engine.fingerprintPaths(paths, { force: Boolean(opts.force) });
        print(json, run, () => {
          const lines: string[] = [];
          if (run.instances.length) {
            lines.push(
              table([
                ['file', 'pixel', 'meta', 'file sha256', 'pixels from', 'SOP Instance UID'],
                ...run.instances.map((i: InstanceFingerprint) => [i.path, short(i.pixel), short(i.meta), short(i.file), i.pixelMode, i.sopInstanceUid ?? '-']),
              ]),
            );
          }
          for (const st of run.studies) {
            lines.push('', `study ${st.studyInstanceUid}`, `  Merkle root ${st.root} (${st.leafCount} instance${st.leafCount === 1 ? '' : 's'})`);
            if (st.conflicts.length) lines.push(`  warning: ${st.conflicts.length} SOP Instance UID(s) appear with different content: ${st.conflicts.join(', ')}`);
          }
          if (run.errors.length) lines.push('', `could not fingerprint ${run.errors.length} file(s):`, ...errorLines(run.errors));
          const cached = run.instances.filter((i) => i.cached).length;
          lines.push('', `${run.instances.length} fingerprinted (${cached} unchanged since last time), ${run.errors.length} failed${run.cancelled ? ', cancelled' : ''}.`);
          lines.push('Full digests: add --json.');
          return lines.join('\n');
        });
        if (run.errors.length) process.exitCode = 1;
      } finally {
        await s.close();
      }
    });

  program
    .command('compare')
    .argument('<a>', 'a DICOM file')
    .argument('<b>', 'another DICOM file')
    .description(
      'compare the fingerprints of two DICOM files and say what the result means: identical files; ' +
        'same pixels and metadata but a different file (e.g. another transfer syntax or a PACS round trip); ' +
        'same pixels, different metadata; same metadata, different pixels; or different images.',
    )
    .action(async (a: string, b: string, _opts: unknown, cmd: Command) => {
      const { json } = globalOptions(cmd);
      // Two files need no worker pool and no app-data folder: an in-memory database and the calling thread.
      const db = openDatabase(':memory:');
      const engine = new FingerprintEngine(db, { threads: 0 });
      try {
        const r = await engine.compare(a, b);
        print(json, r, () => {
          if (!r.comparison) return [`cannot compare:`, ...errorLines(r.errors)].join('\n');
          const c = r.comparison;
          const mark = (same: boolean) => (same ? 'same     ' : 'DIFFERENT');
          return [
            table([
              ['', 'result', 'A', 'B'],
              ['pixel', mark(c.pixel), r.a!.pixel, r.b!.pixel],
              ['meta', mark(c.meta), r.a!.meta, r.b!.meta],
              ['file', mark(c.file), r.a!.file, r.b!.file],
            ]),
            '',
            `A: ${r.a!.path} (${r.a!.pixelMode} pixels, ${r.a!.transferSyntaxUid})`,
            `B: ${r.b!.path} (${r.b!.pixelMode} pixels, ${r.b!.transferSyntaxUid})`,
            '',
            c.meaning.charAt(0).toUpperCase() + c.meaning.slice(1),
          ].join('\n');
        });
        if (!r.comparison) process.exitCode = 1;
      } finally {
        await engine.close();
        db.close();
      }
    });
}
