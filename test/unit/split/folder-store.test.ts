/**
 * The folder pixel store's layout (one flat folder since stop 24) and its batched durability: blobs
 * stored under the earlier two-level layout are still found, listed and deleted; a blob put with a
 * PendingSync is complete on disk before the batch is flushed and the store reports the same
 * address as a plain put; a blob cut short by a crash is replaced.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderPixelStore, PendingSync, ReadBuffer } from '../../../src/node/split/folder-store';
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
});
