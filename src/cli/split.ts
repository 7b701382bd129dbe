import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SplitError } from '../node/split/errors';
import type { RebuildResult } from '../node/split/split-storage';
import type { Db } from '../node/store/database';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { print, table } from './output';
import { withServices } from './services';

/** A pixel store from what the user typed (kept here for earlier importers; it lives in src/node/split/stores.ts). */
export { pixelStoreFrom } from '../node/split/stores';

function filesUnder(paths: string[]): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p); // reported as unreadable by the split
      return;
    }
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort()) if (!n.startsWith('.')) visit(join(p, n));
    } else out.push(p);
  };
  for (const p of paths) visit(resolve(p));
  return out;
}

/** The files of a study as the library indexed them. */
function studyFiles(db: Db, studyUid: string): string[] {
  const rows = db
    .prepare('SELECT i.file_path AS p FROM instances i JOIN series s ON i.series_ref = s.id JOIN studies st ON s.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL ORDER BY s.number, i.number, i.file_path')
    .all(studyUid) as { p: string }[];
  if (!rows.length) throw new AppError(ErrorCode.NotFound, `No study ${studyUid} is in the library.`, 'Import it first (medimgshr import <folder>), or give the files directly.');
  return rows.map((r) => r.p);
}

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

/** `medimgshr split`, `rebuild`, `split-gc` (docs/split-storage.md). */
export function registerSplit(program: Command): void {
  program
    .command('split')
    .argument('[paths...]', 'DICOM files or folders (folders are searched recursively)')
    .option('--study <uid>', 'split the files of a study in the library (by Study Instance UID)')
    .option('--store <folder|url>', 'pixel store: a folder, or a WebDAV URL (default: blobs/split in the app-data folder)')
    .option('--batch <n>', 'instances recorded per index transaction', '32')
    .option('--no-fsync', 'do not fsync each part (faster; a power cut may lose the newest batch)')
    .description(
      'split DICOM instances (Takahashi): each file becomes a metadata part (every byte but the Pixel Data value, ' +
        'sealed with the institution secret, kept in the app-data folder) and an encrypted pixel blob (AES-256-GCM, ' +
        'key = HKDF of the institution secret and the instance\'s meta digest) in the pixel store. The files are ' +
        'left in place. A file that cannot be read is reported and the others go on (exit code 1 if any failed).',
    )
    .action(async (paths: string[], opts: { study?: string; store?: string; batch: string; fsync: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (!paths.length && !opts.study) throw new AppError(ErrorCode.InvalidArgument, 'Give files or folders to split, or --study <Study Instance UID>.');
      await withServices(home, async (s) => {
        const split = s.split.storageWith({ store: opts.store, durable: opts.fsync });
        const files = [...(opts.study ? studyFiles(s.db, opts.study) : []), ...filesUnder(paths)];
        const run = await split.splitFiles(files, { batchSize: Number(opts.batch) || 32 });
        print(json, run, () => {
          const fresh = run.instances.filter((i) => !i.already);
          const lines = [
            `pixel store: ${run.store}`,
            `${fresh.length} split, ${run.instances.length - fresh.length} already split, ${run.errors.length} failed.`,
            `metadata parts ${mb(fresh.reduce((n, i) => n + i.metadataSize, 0))}, pixel blobs ${mb(fresh.reduce((n, i) => n + i.blobSize, 0))}.`,
          ];
          if (run.errors.length) lines.push('', ...run.errors.map((e) => `  ${e.path}\n    ${e.reject ?? e.failure ?? e.code}: ${e.message}${e.hint ? `\n    what to do: ${e.hint}` : ''}`));
          return lines.join('\n');
        });
        if (run.errors.length) process.exitCode = 1;
      });
    });

  program
    .command('rebuild')
    .argument('[sopInstanceUids...]', 'SOP Instance UIDs of split instances')
    .option('--study <uid>', 'every split instance of a study (Study Instance UID)')
    .option('--all', 'every split instance')
    .requiredOption('--out <folder>', 'where to write the rebuilt files (<SOP Instance UID>.dcm)')
    .option('--store <folder|url>', 'pixel store to read from (default: the one the index names)')
    .option('--no-verify', 'skip the final SHA-256 comparison with the original file (both parts are still authenticated)')
    .description(
      'rebuild split instances into their original Part-10 files, byte-identical (the SHA-256 of each rebuilt ' +
        'file is compared with the original\'s). A wrong key, a swapped or truncated blob or an edited metadata ' +
        'part fails with a specific message and writes nothing for that instance (exit code 1).',
    )
    .action(async (uids: string[], opts: { study?: string; all?: boolean; out: string; store?: string; verify: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const probe = s.split.storageWith({ store: opts.store });
        const rows = opts.all ? probe.index.all() : opts.study ? probe.index.byStudy(opts.study) : [];
        const wanted = [...rows.map((r) => r.sopInstanceUid), ...uids];
        if (!wanted.length) throw new AppError(ErrorCode.InvalidArgument, opts.study ? `No split instance of study ${opts.study} is in the index.` : 'Give SOP Instance UIDs, --study <uid> or --all.');
        // The pixel store the index names for each instance (unless --store overrides).
        const storageFor = (sop: string) => (opts.store ? probe : s.split.storageFor(sop));
        const rebuilt: RebuildResult[] = [];
        const errors: { sopInstanceUid: string; code: string; failure?: string; message: string; hint?: string }[] = [];
        // One batch per pixel store (worker threads rebuild a batch in parallel); results in the order asked.
        const groups = new Map<ReturnType<typeof storageFor>, string[]>();
        for (const sop of wanted) {
          const g = storageFor(sop);
          groups.set(g, [...(groups.get(g) ?? []), sop]);
        }
        const bySop = new Map<string, RebuildResult>();
        const failed = new Map<string, Error>();
        for (const [storage, sops] of groups) {
          const r = await storage.rebuildManyTo(sops, resolve(opts.out), { verifyDigest: opts.verify });
          for (const x of r.rebuilt) bySop.set(x.sopInstanceUid, x);
          for (const e of r.errors) failed.set(e.sopInstanceUid, e.error);
        }
        for (const sop of wanted) {
          const ok = bySop.get(sop);
          if (ok) {
            rebuilt.push(ok);
            continue;
          }
          const err = failed.get(sop);
          if (err instanceof SplitError) errors.push({ sopInstanceUid: sop, ...err.toJSON() });
          else if (err instanceof AppError) errors.push({ sopInstanceUid: sop, ...err.toJSON() });
          else throw err;
        }
        const result = { out: resolve(opts.out), rebuilt, errors };
        print(json, result, () => {
          const lines = [`${rebuilt.length} rebuilt into ${result.out} (${rebuilt.filter((r) => r.matchesOriginal).length} byte-identical to the original), ${errors.length} failed.`];
          if (rebuilt.length && rebuilt.length <= 20) lines.push(table([['SOP Instance UID', 'SHA-256', 'bytes'], ...rebuilt.map((r) => [r.sopInstanceUid, r.sha256.slice(0, 16), String(r.size)])]));
          if (errors.length) lines.push('', ...errors.map((e) => `  ${e.sopInstanceUid}\n    ${e.failure ?? e.code}: ${e.message}${e.hint ? `\n    what to do: ${e.hint}` : ''}`));
          return lines.join('\n');
        });
        if (errors.length) process.exitCode = 1;
      });
    });

  program
    .command('split-gc')
    .option('--store <folder|url>', 'pixel store (default: blobs/split in the app-data folder)')
    .option('--grace <minutes>', 'spare blobs younger than this (a split elsewhere may not have committed yet)', '60')
    .option('--dry-run', 'only report what would be deleted')
    .description('delete pixel blobs and sealed metadata parts that no split instance, pin or anchor names')
    .action(async (opts: { store?: string; grace: string; dryRun?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        // Shares that have ended (consent expired or revoked) release their pins first; without the ledger they keep them.
        let pins: { released: { packageAddress: string; blobs: number; why: string }[]; kept: number; problem?: string } = { released: [], kept: s.split.sharePins().length };
        if (!opts.dryRun && pins.kept > 0) {
          try {
            pins = await s.share.releaseEndedSharePins();
          } catch (err) {
            pins = { ...pins, problem: err instanceof Error ? err.message : String(err) };
          }
        }
        const r = await s.split.storageWith({ store: opts.store }).collectGarbage({ graceMs: Number(opts.grace) * 60_000, dryRun: Boolean(opts.dryRun) });
        print(json, { ...r, sharePins: pins }, () =>
          [
            `${opts.dryRun ? 'would delete' : 'deleted'} ${r.blobsDeleted.length} blob(s) (${mb(r.bytesFreed)}), kept ${r.blobsKept}, spared ${r.youngSpared} young; ${r.metadataRemoved} stray metadata part(s), ${r.temporariesRemoved} temporary file(s).`,
            `shares: ${pins.released.length} ended (their pins released), ${pins.kept} still pinning blobs${pins.problem ? ` (not checked: ${pins.problem})` : ''}.`,
          ].join('\n'),
        );
      });
    });

  program
    .command('split-store')
    .argument('<action>', 'list | add | remove')
    .argument('[uri]', "the pixel store's URI as a share by metadata names it")
    .option('--at <folder|url>', 'where this workstation reaches that store (default: the URI itself)')
    .description("other institutions' pixel stores this workstation may read when it receives a share by metadata (Settings → Storage shows the same list)")
    .action(async (action: string, uri: string | undefined, opts: { at?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        if (action === 'list') {
          const st = s.split.settings();
          print(json, st, () => [`own pixel store: ${s.split.storage.store.location}`, `split on import: ${st.onImport ? 'on' : 'off'}`, ...(st.knownStores.length ? st.knownStores.map((k) => `  ${k.uri}${k.at !== k.uri ? ` (reached at ${k.at})` : ''}`) : ['  no other pixel stores'])].join('\n'));
          return;
        }
        if (!uri) throw new AppError(ErrorCode.InvalidArgument, `split-store ${action} needs the store's URI.`);
        if (action === 'add') {
          const st = s.split.addKnownStore(uri, opts.at);
          print(json, st, () => `added: ${st.knownStores[st.knownStores.length - 1]!.uri}`);
        } else if (action === 'remove') {
          const removed = s.split.removeKnownStore(uri);
          print(json, { removed }, () => (removed ? 'removed' : 'that store was not in the list'));
        } else throw new AppError(ErrorCode.InvalidArgument, `Unknown action "${action}": use list, add or remove.`);
      });
    });
}
