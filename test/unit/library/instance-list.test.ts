import { afterEach, describe, expect, it, vi } from 'vitest';
import { firstImageDone, firstImagePending, forgetInstanceList, holdInstanceList, instanceList } from '../../../src/renderer/library/instanceList';

/** A fake main process answering library.instances, counting the requests per series. */
function fakeBridge() {
  const asked: unknown[] = [];
  (globalThis as unknown as { window: unknown }).window = {
    medimg: {
      invoke: async (channel: string, request: { seriesId: number; source?: string }) => {
        asked.push([channel, request]);
        return { ok: true, value: { series: { id: request.seriesId }, instances: [{ id: request.seriesId * 10 }, { id: request.seriesId * 10 + 1 }] } };
      },
      on: () => () => undefined,
    },
  };
  return asked;
}

describe('one instance list per series for the whole window', () => {
  afterEach(() => forgetInstanceList());

  it('asks once for the series however many parts of the window want it at the same time', async () => {
    const asked = fakeBridge();
    const [a, b, c] = await Promise.all([instanceList(7), instanceList(7), instanceList(7)]);
    expect(asked).toEqual([['library.instances', { seriesId: 7 }]]);
    expect(a.instances.map((i) => i.id)).toEqual([70, 71]);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('keeps sources apart and asks again once forgotten', async () => {
    const asked = fakeBridge();
    await instanceList(7);
    await instanceList(7, 'pacs:Orthanc');
    forgetInstanceList(7);
    await instanceList(7);
    await instanceList(7, 'pacs:Orthanc');
    expect(asked).toEqual([
      ['library.instances', { seriesId: 7 }],
      ['library.instances', { seriesId: 7, source: 'pacs:Orthanc' }],
      ['library.instances', { seriesId: 7 }],
    ]);
  });

  it('waits while a viewport opens a series: its first image goes before the full list', async () => {
    const asked = fakeBridge();
    firstImagePending(0);
    firstImagePending(1);
    const p = instanceList(8);
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([]);
    firstImageDone(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([]); // viewport 1 still opening
    firstImageDone(1);
    expect((await p).instances.map((i) => i.id)).toEqual([80, 81]);
    expect(asked).toEqual([['library.instances', { seriesId: 8 }]]);
  });

  it('a first image that never comes holds the list up 3 s at most', async () => {
    vi.useFakeTimers();
    try {
      const asked = fakeBridge();
      firstImagePending(2);
      const p = instanceList(9);
      await vi.advanceTimersByTimeAsync(2_900);
      expect(asked).toEqual([]);
      await vi.advanceTimersByTimeAsync(200);
      expect((await p).series.id).toBe(9);
      expect(asked).toEqual([['library.instances', { seriesId: 9 }]]);
    } finally {
      firstImageDone(2);
      vi.useRealTimers();
    }
  });

  it('keeps a shown series\' list past 30 s, and drops it 30 s after it is no longer shown', async () => {
    vi.useFakeTimers();
    try {
      const asked = fakeBridge();
      const release = holdInstanceList(11);
      const first = await instanceList(11);
      await instanceList(12);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await instanceList(11)).toBe(first); // shown: kept
      await instanceList(12); // not shown: asked again after 30 s
      expect(asked).toEqual([
        ['library.instances', { seriesId: 11 }],
        ['library.instances', { seriesId: 12 }],
        ['library.instances', { seriesId: 12 }],
      ]);
      release();
      release(); // a second release changes nothing
      await vi.advanceTimersByTimeAsync(20_000);
      expect(await instanceList(11)).toBe(first); // kept a while after it is no longer shown
      await vi.advanceTimersByTimeAsync(11_000);
      expect(await instanceList(11)).not.toBe(first);
      expect(asked.filter((a) => (a as [string, { seriesId: number }])[1].seriesId === 11)).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a shown series is read again when the index changes', async () => {
    const asked = fakeBridge();
    const release = holdInstanceList(13);
    await instanceList(13);
    forgetInstanceList();
    await instanceList(13);
    release();
    expect(asked).toHaveLength(2);
  });
});
