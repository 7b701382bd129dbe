import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { appHome, ensureAppHome } from '../node/app-home';
import { SplitError } from '../node/split/errors';
import { FolderPixelStore } from '../node/split/folder-store';
import type { PixelStore } from '../node/split/pixel-store';
import { createSplitStorage, type RebuildResult, type SplitStorage } from '../node/split/split-storage';
import { WebDavPixelStore } from '../node/split/webdav-store';
import { openDatabase, type Db } from '../node/store/database';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { print, table } from './output';

/** A pixel store from what the user typed: a folder, a file: URL, or an http(s) WebDAV URL. */
export function pixelStoreFrom(spec: string): PixelStore {
  if (/^https?:\/\//i.test(spec)) return new WebDavPixelStore(spec);
  if (/^file:\/\//i.test(spec)) return new FolderPixelStore(fileURLToPath(spec));
  return new FolderPixelStore(resolve(spec));
}

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
    .prepare('SELECT i.file_path AS p FROM instances i JOIN series s ON i.series_ref = s.id JOIN studies st ON s.study_ref = st.id WHERE st.study_uid = ? ORDER BY s.number, i.number, i.file_path')
    .all(studyUid) as { p: string }[];
  if (!rows.length) throw new AppError(ErrorCode.NotFound, `No study ${studyUid} is in the library.`, 'Import it first (medimgshr import <folder>), or give the files directly.');
  return rows.map((r) => r.p);
}

function open(home: string, store: string | undefined, durable: boolean): { db: Db; split: SplitStorage } {
  const h = ensureAppHome(appHome(home));
  const db = openDatabase(h.database);
  return { db, split: createSplitStorage({ db, home: h.root, store: store ? pixelStoreFrom(store) : undefined, durable }) };
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
      const { db, split } = open(home, opts.store, opts.fsync);
      try {
        const files = [...(opts.study ? studyFiles(db, opts.study) : []), ...filesUnder(paths)];
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
      } finally {
        db.close();
      }
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
      const h = ensureAppHome(appHome(home));
      const db = openDatabase(h.database);
      try {
        const probe = createSplitStorage({ db, home: h.root, store: opts.store ? pixelStoreFrom(opts.store) : undefined });
        const rows = opts.all ? probe.index.all() : opts.study ? probe.index.byStudy(opts.study) : [];
        const wanted = [...rows.map((r) => r.sopInstanceUid), ...uids];
        if (!wanted.length) throw new AppError(ErrorCode.InvalidArgument, opts.study ? `No split instance of study ${opts.study} is in the index.` : 'Give SOP Instance UIDs, --study <uid> or --all.');
        // One storage per pixel store the index names (unless --store overrides).
        const storages = new Map<string, SplitStorage>();
        const storageFor = (sop: string): SplitStorage => {
          if (opts.store) return probe;
          const loc = probe.index.get(sop)?.store;
          if (!loc) return probe;
          let s = storages.get(loc);
          if (!s) {
            s = createSplitStorage({ db, home: h.root, store: pixelStoreFrom(loc) });
            storages.set(loc, s);
          }
          return s;
        };
        const rebuilt: RebuildResult[] = [];
        const errors: { sopInstanceUid: string; code: string; failure?: string; message: string; hint?: string }[] = [];
        for (const sop of wanted) {
          try {
            rebuilt.push(await storageFor(sop).rebuildTo(sop, resolve(opts.out), { verifyDigest: opts.verify }));
          } catch (err) {
            if (err instanceof SplitError) errors.push({ sopInstanceUid: sop, ...err.toJSON() });
            else if (err instanceof AppError) errors.push({ sopInstanceUid: sop, ...err.toJSON() });
            else throw err;
          }
        }
        const result = { out: resolve(opts.out), rebuilt, errors };
        print(json, result, () => {
          const lines = [`${rebuilt.length} rebuilt into ${result.out} (${rebuilt.filter((r) => r.matchesOriginal).length} byte-identical to the original), ${errors.length} failed.`];
          if (rebuilt.length && rebuilt.length <= 20) lines.push(table([['SOP Instance UID', 'SHA-256', 'bytes'], ...rebuilt.map((r) => [r.sopInstanceUid, r.sha256.slice(0, 16), String(r.size)])]));
          if (errors.length) lines.push('', ...errors.map((e) => `  ${e.sopInstanceUid}\n    ${e.failure ?? e.code}: ${e.message}${e.hint ? `\n    what to do: ${e.hint}` : ''}`));
          return lines.join('\n');
        });
        if (errors.length) process.exitCode = 1;
      } finally {
        db.close();
      }
    });

  program
    .command('split-gc')
    .option('--store <folder|url>', 'pixel store (default: blobs/split in the app-data folder)')
    .option('--grace <minutes>', 'spare blobs younger than this (a split elsewhere may not have committed yet)', '60')
    .option('--dry-run', 'only report what would be deleted')
    .description('delete pixel blobs and sealed metadata parts that no split instance, pin or anchor names')
    .action(async (opts: { store?: string; grace: string; dryRun?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const { db, split } = open(home, opts.store, true);
      try {
        const r = await split.collectGarbage({ graceMs: Number(opts.grace) * 60_000, dryRun: Boolean(opts.dryRun) });
        print(json, r, () => `${opts.dryRun ? 'would delete' : 'deleted'} ${r.blobsDeleted.length} blob(s) (${mb(r.bytesFreed)}), kept ${r.blobsKept}, spared ${r.youngSpared} young; ${r.metadataRemoved} stray metadata part(s), ${r.temporariesRemoved} temporary file(s).`);
      } finally {
        db.close();
      }
    });
}
