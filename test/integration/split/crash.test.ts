/**
 * Crash safety of `medimgshr split` (the built CLI in a child process): kill -9 in the middle of a
 * split of 500 instances, 10 times, at a random point of its progress. Afterwards every instance is
 * either fully split (its rebuild is byte-identical) or untouched (no index row); every referenced
 * blob and metadata part exists; unreferenced leftovers are only what garbage collection removes (with
 * the worker pool, the batch not yet recorded plus what the workers held). A
 * last run resumes and finishes the split. Bounded: each trial stops itself after 60 s.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { FolderPixelStore, readPackFooter } from '../../../src/node/split/folder-store';
import { SPLIT_BATCH } from '../../../src/node/split/pool';
import { createSplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';
import { mulberry32 } from '../../../src/core/prng';

const root = join(__dirname, '../../..');
const bin = join(root, 'bin/medimgshr.cjs');
const N = 500;
const TRIALS = 10;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function rowCount(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM split_instances').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created or not migrated yet
  }
}

/** Runs the split and kills it with SIGKILL once `killAfterRows` rows are committed (plus a random few ms). */
async function splitAndKill(home: string, dir: string, killAfterRows: number, extraMs: number): Promise<{ killed: boolean }> {
  const child = spawn(process.execPath, [bin, '--home', home, 'split', dir, '--batch', '16', '--json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const dbPath = join(home, 'medimgshr.sqlite');
  const deadline = Date.now() + 60_000;
  let killed = false;
  while (child.exitCode === null && Date.now() < deadline) {
    if (rowCount(dbPath) >= killAfterRows && (killAfterRows > 0 || existsSync(join(home, 'split')))) {
      await new Promise((r) => setTimeout(r, extraMs));
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        killed = true;
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  if (child.exitCode === null && !killed) {
    child.kill('SIGKILL');
    killed = true;
  }
  await exited;
  return { killed };
}

describe('kill -9 during medimgshr split of 500 instances', () => {
  const tmp = tempDir('medimg-split-crash-');
  const originals = new Map<string, string>(); // path → SHA-256
  const dir = join(tmp.path, 'mr');
  beforeAll(async () => {
    const s = await writeSampleSeries({ outDir: dir, slices: N, kind: 'mr', seed: 500 });
    for (const f of s.files) originals.set(f, sha(readFileSync(f)));
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it(`${TRIALS} trials: every instance fully split or untouched; no referenced part missing; leftovers collectable; a rerun finishes`, async () => {
    const random = mulberry32(13); // deterministic, so a failing trial can be replayed
    const outcomes: number[] = [];
    let lastHome = '';
    for (let t = 0; t < TRIALS; t++) {
      const home = join(tmp.path, `home-${t}`);
      lastHome = home;
      const killAfter = t === 0 ? 0 : Math.floor(random() * 460);
      const { killed } = await splitAndKill(home, dir, killAfter, Math.floor(random() * 60));
      expect(killed, `trial ${t} was not killed`).toBe(true);

      const db = openDatabase(join(home, 'medimgshr.sqlite'));
      try {
        const store = new FolderPixelStore(join(home, 'blobs', 'split'), { durable: false });
        const split = createSplitStorage({ db, home, store, durable: false });
        const rows = split.index.all();
        outcomes.push(rows.length);
        const bySop = new Map(rows.map((r) => [r.sopInstanceUid, r]));
        expect(bySop.size).toBe(rows.length);
        // Fully split: both parts exist, and the rebuild is the original file byte for byte.
        for (const r of rows) {
          expect(await store.has(r.blobAddress), `trial ${t}: blob of ${r.sopInstanceUid}`).toBe(true);
          // The sealed metadata part is in the row itself (committed with it), of the size recorded.
          expect(r.metadataPath, `trial ${t}: metadata of ${r.sopInstanceUid} in the index`).toBe('');
          expect(split.index.sealedMetadata(r.sopInstanceUid)?.length, `trial ${t}: metadata of ${r.sopInstanceUid}`).toBe(r.metadataSize);
          const b = await split.rebuildBytes(r.sopInstanceUid);
          expect(sha(b)).toBe(originals.get(r.sourcePath!));
        }
        // Untouched: every other instance has no row, and no source file was changed (checked below).
        // Leftovers: unreferenced blobs/metadata parts of the batch in flight; collecting them leaves
        // exactly what the index names.
        const gc = await split.collectGarbage({ graceMs: 0 });
        const left: string[] = [];
        for await (const b of store.list()) left.push(b.address);
        expect(left.sort()).toEqual([...new Set(rows.map((r) => r.blobAddress))].sort());
        // No pack cut short by the kill is left (collected), and every pack left holds only named blobs.
        const packDir = join(home, 'blobs', 'split', 'packs');
        const named = new Set(rows.map((r) => r.blobAddress));
        for (const name of existsSync(packDir) ? readdirSync(packDir) : []) {
          const p = readPackFooter(join(packDir, name));
          expect(p, `trial ${t}: pack ${name} is complete`).not.toBeNull();
          for (const e of p!.entries) expect(named.has(e.address), `trial ${t}: packed ${e.address} is named`).toBe(true);
        }
        const metaFiles: string[] = [];
        const walk = (d: string) => {
          if (!existsSync(d)) return;
          for (const e of readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) walk(join(d, e.name));
            else metaFiles.push(join(d, e.name));
          }
        };
        walk(split.metadataDir);
        expect(metaFiles).toEqual([]); // no metadata part is a file of its own any more
        // At most what was in flight: the batch being made durable and recorded (16), the next one
        // being collected meanwhile (16), and the instances the split worker threads held (two
        // messages of SPLIT_BATCH per thread — a pack each —, one thread per core: src/node/split/pool.ts).
        expect(gc.blobsDeleted.length).toBeLessThanOrEqual(2 * 16 + 2 * SPLIT_BATCH * availableParallelism() + 1);
      } finally {
        db.close();
      }
    }
    console.log(`instances split when killed, per trial: ${outcomes.join(', ')} (of ${N})`);
    expect(outcomes.filter((n) => n < N).length).toBeGreaterThanOrEqual(TRIALS - 2);

    // Resume the last trial's split to the end.
    const out = execFileSync(process.execPath, [bin, '--home', lastHome, 'split', dir, '--no-fsync', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const run = JSON.parse(out) as { instances: { already: boolean }[]; errors: unknown[] };
    expect(run.errors).toEqual([]);
    expect(run.instances).toHaveLength(N);
    const db = openDatabase(join(lastHome, 'medimgshr.sqlite'));
    try {
      const split = createSplitStorage({ db, home: lastHome, durable: false });
      expect(split.index.count()).toBe(N);
      for (const r of split.index.all()) expect(sha(await split.rebuildBytes(r.sopInstanceUid))).toBe(originals.get(r.sourcePath!));
    } finally {
      db.close();
    }
    for (const [f, h] of originals) expect(sha(readFileSync(f)), f).toBe(h);
  }, 600_000);
});
