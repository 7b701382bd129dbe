/**
 * The folder pixel store's layout (one flat folder since stop 24) and its batched durability: blobs
 * stored under the earlier two-level layout are still found, listed and deleted; a blob put with a
 * PendingSync is complete on disk before the batch is flushed and the store reports the same
 * address as a plain put; a blob cut short by a crash is replaced. Packs: blobs written many to a
 * file are found, listed and read like loose ones; a pack cut short holds nothing and is collected;
 * deleting a packed blob rewrites its pack without it, every other blob kept byte for byte.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderPixelStore, PendingSync, readPackFooter, ReadBuffer } from '../../../src/node/split/folder-store';
import { blobAddress } from '../../../src/node/split/pixel-store';
import { tempDir } from '../../support/tmp';

describe('folder pixel store', () => {
  const tmp = tempDir('medimg-folder-store-');
  afterAll(() => tmp.cleanup());

  it('a blob of the two-level layout is found, listed and deleted beside flat ones', async () => {
    const root = join(tmp.path, 'legacy');
    const store = new FolderPixelStore(root, { durable: false });
    const flat = await store.put(new Uint8Array([1, 2, 3]));
    expect(statSync(join(root, flat)).size).toBe(3);
    const oldBytes = new Uint8Array([9, 8, 7, 6]);
    const old = blobAddress(oldBytes);
    mkdirSync(join(root, old.slice(0, 2), old.slice(2, 4)), { recursive: true });
    writeFileSync(store.legacyPathOf(old), oldBytes);
    expect([...((await store.get(old)) ?? [])]).toEqual([9, 8, 7, 6]);
    expect(await store.has(old)).toBe(true);
    const listed: { address: string; size: number }[] = [];
    for await (const b of store.list()) listed.push({ address: b.address, size: b.size });
    expect(listed.sort((a, b) => a.address.localeCompare(b.address))).toEqual([{ address: flat, size: 3 }, { address: old, size: 4 }].sort((a, b) => a.address.localeCompare(b.address)));
    expect(await store.delete(old)).toBe(true);
    expect(await store.has(old)).toBe(false);
    expect(await store.get(old)).toBeNull();
    expect(await store.delete(old)).toBe(false);
  });

  it('a durable put into a batch writes the whole blob at once and leaves the fsync to the flush', async () => {
    const root = join(tmp.path, 'batched');
    const store = new FolderPixelStore(root, { durable: true });
    const pending = new PendingSync();
    const pieces = [Buffer.from('head'), Buffer.alloc(300_000, 7), Buffer.from('tag')];
    const whole = Buffer.concat(pieces);
    const a = store.putSync(pieces, blobAddress(whole), pending);
    expect(a).toBe(blobAddress(whole));
    expect(pending.empty).toBe(false); // the file and the folder wait for the flush
    expect(readFileSync(store.pathOf(a)).equals(whole)).toBe(true);
    await pending.flush();
    expect(pending.empty).toBe(true);
    // The same blob again: found in place (same size), queued for a flush, not rewritten.
    const again = new PendingSync();
    expect(store.putSync(pieces, a, again)).toBe(a);
    await again.flush();
    // Cut short by a crash: the next put replaces it.
    writeFileSync(store.pathOf(a), whole.subarray(0, 1000));
    expect(store.putSync(whole)).toBe(a);
    expect(readFileSync(store.pathOf(a)).equals(whole)).toBe(true);
  });

  it('the reusable read buffer returns each file whole, however the sizes vary', () => {
    const r = new ReadBuffer();
    const sizes = [10, 200_000, 0, 50, 600_000, 3];
    sizes.forEach((n, i) => writeFileSync(join(tmp.path, `f${i}`), Buffer.alloc(n, i + 1)));
    sizes.forEach((n, i) => {
      const b = r.read(join(tmp.path, `f${i}`));
      expect(b.length).toBe(n);
      expect(b.every((x) => x === i + 1)).toBe(true);
    });
  });

  const blobs = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => {
      const b = Buffer.alloc(1000 + i * 37, (seed + i) & 0xff);
      b.writeUInt32BE(seed * 1000 + i, 0);
      return b;
    });

  it('packed blobs are read, listed and found by a store opened afresh; one already stored is not written again', async () => {
    const root = join(tmp.path, 'packed');
    const store = new FolderPixelStore(root, { durable: true });
    const bs = blobs(5, 1);
    const loose = await store.put(bs[4]!); // a loose blob: the pack refers to it instead of a copy
    const pending = new PendingSync();
    const w = store.packWriter();
    for (const b of bs) w.add([b.subarray(0, 10), b.subarray(10)], blobAddress(b), pending);
    w.add([bs[0]!], blobAddress(bs[0]!), pending); // twice in one pack: once
    w.finish(pending);
    await pending.flush();
    const packs = readdirSync(join(root, 'packs'));
    expect(packs).toHaveLength(1);
    const footer = readPackFooter(join(root, 'packs', packs[0]!))!;
    expect(footer.entries.map((e) => e.address)).toEqual(bs.slice(0, 4).map(blobAddress));
    expect(statSync(join(root, 'packs', packs[0]!)).size).toBe(bs.slice(0, 4).reduce((n, b) => n + b.length, 0) + 4 * 48 + 28);
    const fresh = new FolderPixelStore(root, { durable: false });
    const reader = new ReadBuffer();
    for (const b of bs) {
      expect((await fresh.get(blobAddress(b)))!.equals(b)).toBe(true);
      expect(fresh.getSync(blobAddress(b), reader)!.equals(b)).toBe(true);
      expect(await fresh.has(blobAddress(b))).toBe(true);
    }
    expect(fresh.locate(loose)!.path).toBe(fresh.pathOf(loose));
    const listed: string[] = [];
    for await (const b of fresh.list()) listed.push(`${b.address}:${b.size}`);
    expect(listed.sort()).toEqual(bs.map((b) => `${blobAddress(b)}:${b.length}`).sort());
    expect(await fresh.get('0'.repeat(64))).toBeNull();
  });

  it('a pack cut short (a crash before its footer) holds no blob, and is removed once older than the grace', async () => {
    const root = join(tmp.path, 'cut');
    const store = new FolderPixelStore(root, { durable: false });
    const bs = blobs(3, 2);
    const w = store.packWriter();
    for (const b of bs) w.add([b], blobAddress(b));
    w.finish();
    const path = join(root, 'packs', readdirSync(join(root, 'packs'))[0]!);
    for (const cut of [statSync(path).size - 1, statSync(path).size - 30, 2000]) {
      truncateSync(path, cut);
      expect(readPackFooter(path)).toBeNull();
      const fresh = new FolderPixelStore(root, { durable: false });
      for (const b of bs) expect(await fresh.has(blobAddress(b))).toBe(false);
      const listed: string[] = [];
      for await (const b of fresh.list()) listed.push(b.address);
      expect(listed).toEqual([]);
    }
    const fresh = new FolderPixelStore(root, { durable: false });
    expect(await fresh.removeStaleTemporaries(60_000)).toBe(0); // young: perhaps still being written
    utimesSync(path, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    expect(await fresh.removeStaleTemporaries(60_000)).toBe(1);
    expect(readdirSync(join(root, 'packs'))).toEqual([]);
  });

  it('deleting packed blobs rewrites the pack without them; the others stay byte for byte, also for a reader that knew the old pack', async () => {
    const root = join(tmp.path, 'compact');
    const store = new FolderPixelStore(root, { durable: true });
    const bs = blobs(6, 3);
    const w = store.packWriter();
    for (const b of bs) w.add([b], blobAddress(b));
    w.finish();
    const reader = new FolderPixelStore(root, { durable: false });
    expect((await reader.get(blobAddress(bs[5]!)))!.equals(bs[5]!)).toBe(true); // knows the old pack now
    const gone = await store.deleteMany([blobAddress(bs[1]!), blobAddress(bs[3]!), 'f'.repeat(64)]);
    expect([...gone].sort()).toEqual([blobAddress(bs[1]!), blobAddress(bs[3]!)].sort());
    const packs = readdirSync(join(root, 'packs'));
    expect(packs).toHaveLength(1);
    expect(readPackFooter(join(root, 'packs', packs[0]!))!.entries.map((e) => e.address)).toEqual([0, 2, 4, 5].map((i) => blobAddress(bs[i]!)));
    for (const [i, b] of bs.entries()) {
      const back = await reader.get(blobAddress(b));
      if (i === 1 || i === 3) expect(back).toBeNull();
      else expect(back!.equals(b)).toBe(true);
    }
    expect(await store.delete(blobAddress(bs[1]!))).toBe(false);
    // A pack newer than the cut-off (garbage collection's grace) is left whole.
    expect((await store.deleteMany([blobAddress(bs[0]!)], { modifiedBefore: Date.now() - 60_000 })).size).toBe(0);
    expect((await store.get(blobAddress(bs[0]!)))!.equals(bs[0]!)).toBe(true);
    // The last blobs of a pack: the pack goes.
    expect((await store.deleteMany([0, 2, 4, 5].map((i) => blobAddress(bs[i]!)))).size).toBe(4);
    expect(readdirSync(join(root, 'packs'))).toEqual([]);
  });
});
