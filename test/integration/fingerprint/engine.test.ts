/**
 * The engine with real SQLite, the real worker pool (the built worker bundle) and real files:
 * storage, recompute only on change, per-study trees with proofs, progress events, cancellation.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAF_ENCODING } from '../../../src/core/fingerprint';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { FingerprintEngine } from '../../../src/node/fingerprint/engine';
import { findWorkerScript } from '../../../src/node/fingerprint/pool';
import { fingerprintHandlers } from '../../../src/node/handlers/fingerprint';
import { createHandlerTable, dispatch } from '../../../src/node/handlers';
import { fingerprintChannels } from '../../../src/shared/api/fingerprint';
import { Services } from '../../../src/node/services';
import type { ProgressEvent } from '../../../src/shared/api';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

describe('fingerprint engine (SQLite, worker threads)', () => {
  const tmp = tempDir('medimg-fp-engine-');
  const data = join(tmp.path, 'data');
  let s: Services;
  let study: string;
  let slices: string[];

  beforeAll(async () => {
    mkdirSync(data);
    const r = await writeSampleSeries({ outDir: join(data, 'ct'), slices: 6, kind: 'ct', seed: 3 });
    study = r.studyInstanceUid;
    slices = r.files;
    for (const f of ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'MR_truncated.dcm']) copyFileSync(join(PYDICOM, f), join(data, f));
    writeFileSync(join(data, 'notes.txt'), 'not an image');
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' }, fingerprint: { threads: 2 } });
  });
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('warmUp starts the worker threads before the first job (the app calls it once its window is up); the first job uses them', async () => {
    // Nothing has run yet in this file: the engine exists only when asked for, and its threads only when started.
    expect(s.fingerprints.started).toBe(false);
    s.warmUp();
    expect(s.fingerprints.started).toBe(true);
    expect(s.fingerprints.threads).toBe(2);
    const r = await s.fingerprints.fingerprintPaths([slices[0]!]);
    expect(r.errors).toEqual([]);
    expect(r.instances.map((i) => i.path)).toEqual([slices[0]]);
    expect(r.instances[0]!.pixel).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses the bundled worker, one thread per core by default', () => {
    expect(findWorkerScript()).toMatch(/dist\/workers\/fingerprint\.worker\.cjs$/);
    const e = s.fingerprints;
    expect(e.threads).toBe(2);
  });

  it('fingerprints a folder: digests, errors per file, a study tree whose proofs verify; the same in the calling thread', async () => {
    const events: ProgressEvent[] = [];
    s.events.on('event', (e) => e.type === 'progress' && events.push(e));
    const run = await fingerprintHandlers(s)['fingerprint.files']({ paths: [data] }, { sender: { url: 'test', trusted: true } });
    expect(run.cancelled).toBe(false);
    expect(run.instances).toHaveLength(6 + 3);
    expect(run.errors.map((e) => [e.path.split('/').pop(), e.reject]).sort()).toEqual([
      ['MR_truncated.dcm', 'TRUNCATED'],
      ['notes.txt', 'NOT_DICOM'],
    ]);
    const finished = events.filter((e) => e.kind === 'fingerprint' && e.finished);
    expect(finished.at(-1)!.done).toBe(11);
    expect(finished.at(-1)!.failed).toBe(2);

    const ct = run.studies.find((x) => x.studyInstanceUid === study)!;
    expect(ct.leafCount).toBe(6);
    for (const p of ct.proofs!) expect(StandardMerkleTree.verify(ct.root, [...LEAF_ENCODING], p.value, p.proof)).toBe(true);
    // tree_json keeps the tree's head (format, root, count), not every node: the leaves and proofs have their own rows
    const head = JSON.parse((s.db.prepare('SELECT tree_json FROM fingerprint_studies WHERE study_instance_uid = ?').get(study) as { tree_json: string }).tree_json);
    expect(head).toEqual({ format: 'standard-v1', leafEncoding: [...LEAF_ENCODING], root: ct.root, leafCount: 6, leaves: 'fingerprint_proofs', proofs: 'merkle_proofs' });
    // MR_small in three encodings: one instance, one leaf, no conflict
    const mr = run.studies.find((x) => x.studyInstanceUid !== study)!;
    expect(mr.leafCount).toBe(1);
    expect(mr.conflicts).toEqual([]);

    const inline = new FingerprintEngine(s.db, { threads: 0 });
    const again = await inline.compare(slices[0]!, slices[0]!);
    await inline.close();
    const pooled = run.instances.find((i) => i.path === slices[0])!;
    expect(again.a!.pixel).toBe(pooled.pixel);
    expect(again.a!.meta).toBe(pooled.meta);
    expect(again.a!.file).toBe(pooled.file);
    expect(again.comparison!.verdict).toBe('identical');
  });

  it('reads again only what changed: unchanged → cached; new time, same bytes → cached; new bytes → recomputed, new root', async () => {
    const e = s.fingerprints;
    const before = e.getStudy(study)!;
    const second = await e.fingerprintPaths([data]);
    expect(second.instances.every((i) => i.cached)).toBe(true);
    expect(second.studies.find((x) => x.studyInstanceUid === study)!.root).toBe(before.root);
    // same root: the stored proofs are kept as they were (not rewritten) and still verify
    const again = e.getStudy(study)!;
    expect(again.proofs).toEqual(before.proofs);
    expect(again.proofs!.length).toBe(6);

    const later = new Date(Date.now() + 60_000);
    utimesSync(slices[1]!, later, later);
    const touched = await e.fingerprintPaths([slices[1]!]);
    expect(touched.instances[0]!.cached).toBe(true);
    expect(e.getFile(slices[1]!).instance!.size).toBe(readFileSync(slices[1]!).length);

    const old = e.getFile(slices[2]!).instance!;
    execFileSync('dcmodify', ['-nb', '-m', '(0010,0010)=Changed^Name', slices[2]!]);
    const changed = await e.fingerprintPaths([slices[2]!]);
    const now = changed.instances[0]!;
    expect(now.cached).toBe(false);
    expect(now.pixel).toBe(old.pixel);
    expect(now.meta).not.toBe(old.meta);
    const after = changed.studies.find((x) => x.studyInstanceUid === study)!;
    expect(after.root).not.toBe(before.root);
    expect(after.leafCount).toBe(6);
    expect(e.getStudy(study)!.root).toBe(after.root);
    // new root: every stored proof was rewritten for it
    const stored = e.getStudy(study)!;
    expect(stored.proofs!.some((p) => p.leaf === now.leaf)).toBe(true);
    expect(stored.proofs!.some((p) => p.leaf === old.leaf)).toBe(false);
    for (const p of stored.proofs!) expect(StandardMerkleTree.verify(stored.root, [...LEAF_ENCODING], p.value, p.proof)).toBe(true);

    // a file that breaks loses its digests and leaves the study tree
    writeFileSync(slices[3]!, readFileSync(slices[3]!).subarray(0, 3000));
    const broken = await e.fingerprintPaths([slices[3]!]);
    expect(broken.errors[0]!.reject).toBe('TRUNCATED');
    expect(e.getFile(slices[3]!).error!.code).toBe('TRUNCATED');
    expect(e.getStudy(study)!.leafCount).toBe(5);

    const got = await fingerprintHandlers(s)['fingerprint.get']({ path: slices[2]!, proofs: true }, { sender: { url: 'test', trusted: true } });
    expect(got.instance!.meta).toBe(now.meta);
    expect(got.study!.proofs!.some((p) => p.leaf === now.leaf)).toBe(true);
  });

  it('one whole-file hash per file: the library\'s instances.sha256 and the fingerprint\'s file digest are taken from each other', async () => {
    // Imported, not hashed yet: fingerprinting records its file digest for the library.
    const a = await writeSampleSeries({ outDir: join(tmp.path, 'lib-a'), slices: 3, kind: 'ct', seed: 11 });
    await s.tasks.run('import', null, (task) => s.library.import([join(tmp.path, 'lib-a')], task));
    const hashOf = (p: string) => (s.db.prepare('SELECT sha256 FROM instances WHERE file_path = ?').get(p) as { sha256: string | null }).sha256;
    expect(a.files.map(hashOf)).toEqual([null, null, null]);
    const ra = await s.fingerprints.fingerprintPaths(a.files);
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(a.files.map(hashOf)).toEqual(a.files.map(sha));
    expect(ra.instances.map((i) => i.file)).toEqual(a.files.map(sha));
    // Hashed by the library first (its background task): fingerprinting takes that digest while
    // the file has the size and time it was hashed at. A recorded value that is not the file's own
    // shows it was taken, not recomputed (set here only to tell the two apart).
    const b = await writeSampleSeries({ outDir: join(tmp.path, 'lib-b'), slices: 3, kind: 'ct', seed: 12 });
    await s.tasks.run('import', null, (task) => s.library.import([join(tmp.path, 'lib-b')], task));
    await s.tasks.run('hash', null, (task) => s.library.hashPending(task));
    expect(b.files.map(hashOf)).toEqual(b.files.map(sha));
    s.db.prepare('UPDATE instances SET sha256 = ? WHERE file_path = ?').run('cd'.repeat(32), b.files[0]);
    const rb = await s.fingerprints.fingerprintPaths(b.files);
    expect(rb.instances.map((i) => i.file)).toEqual(['cd'.repeat(32), sha(b.files[1]!), sha(b.files[2]!)]);
    // forced: nothing recorded is trusted
    const forced = await s.fingerprints.fingerprintPaths([b.files[0]!], { force: true });
    expect(forced.instances[0]!.file).toBe(sha(b.files[0]!));
  });

  it('cancels: the task stops reading new files, keeps what was done, and says so', async () => {
    const many = join(tmp.path, 'many');
    await writeSampleSeries({ outDir: many, slices: 150, kind: 'mr', seed: 5 });
    // Cancelled once the first files are in the workers' hands (not at the first progress event
    // after its 100 ms throttle: warm workers can finish all 150 files before that).
    let taskId: string | null = null;
    let cancelledTask: string | null = null;
    const listener = (e: { type: string; taskId?: string; kind?: string }) => {
      if (e.type === 'progress' && e.kind === 'fingerprint' && !taskId) taskId = e.taskId!;
    };
    s.events.on('event', listener);
    const pool = (s.fingerprints as unknown as { getPool(): { run(...a: unknown[]): Promise<unknown> } }).getPool();
    const run0 = pool.run;
    pool.run = function (...a: unknown[]) {
      if (!cancelledTask && taskId) {
        cancelledTask = taskId;
        const id = taskId;
        setTimeout(() => s.tasks.cancel(id), 0); // after the first batches were handed to the workers
      }
      return run0.apply(this, a);
    };
    const run = await Promise.resolve(fingerprintHandlers(s)['fingerprint.files']({ paths: [many] }, { sender: { url: 'test', trusted: true } })).finally(() => {
      pool.run = run0;
    });
    s.events.off('event', listener);
    expect(cancelledTask).not.toBeNull();
    expect(run.cancelled).toBe(true);
    expect(run.instances.length).toBeLessThan(150);
    expect(run.instances.length).toBeGreaterThan(0);
    console.log(`cancelled after ${run.instances.length} of 150 files`);
    expect(run.errors).toEqual([]);
    // what was done is stored; running again finishes the rest
    const rest = await s.fingerprints.fingerprintPaths([many]);
    expect(rest.instances).toHaveLength(150);
    expect(rest.instances.filter((i) => i.cached).length).toBe(run.instances.length);
  });

  it('through dispatch: arguments are validated, responses match the channel schemas (JSON only)', async () => {
    const table = createHandlerTable(s);
    const sender = { url: 'app://test', trusted: true };
    const bad = await dispatch(table, 'fingerprint.get', {}, sender);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('INVALID_ARGUMENT');
    const extra = await dispatch(table, 'fingerprint.files', { paths: [data], evil: true }, sender);
    expect(extra.ok).toBe(false);
    const cmp = await dispatch(table, 'fingerprint.compare', { a: join(PYDICOM, 'MR_small.dcm'), b: join(PYDICOM, 'MR_small_bigendian.dcm') }, sender);
    expect(cmp.ok).toBe(true);
    if (cmp.ok) {
      const v = fingerprintChannels['fingerprint.compare'].response.parse(cmp.value);
      expect(v.comparison!.verdict).toBe('same-image-different-encoding');
      expect(JSON.parse(JSON.stringify(cmp.value))).toEqual(cmp.value);
    }
    const st = await dispatch(table, 'fingerprint.study', { studyInstanceUid: study }, sender);
    expect(st.ok).toBe(true);
    if (st.ok) {
      const v = fingerprintChannels['fingerprint.study'].response.parse(st.value);
      expect(v.study!.leafCount).toBe(v.study!.proofs!.length);
      for (const p of v.study!.proofs!) expect(StandardMerkleTree.verify(v.study!.root, [...LEAF_ENCODING], p.value, p.proof)).toBe(true);
    }
    const files = await dispatch(table, 'fingerprint.files', { paths: [join(PYDICOM, 'MR_small.dcm')] }, sender);
    expect(files.ok).toBe(true);
    if (files.ok) fingerprintChannels['fingerprint.files'].response.parse(files.value);
  });
});
