import { describe, expect, it } from 'vitest';
import { Arrivals, spreadSeries, type SplitTarget, type SubOperations } from '../../../src/node/pacs/dimse';
import { PacsError, PacsReason } from '../../../src/node/pacs/errors';

const uids = (n: number) => Array.from({ length: n }, (_, i) => `1.2.3.${i + 1}`);
const ok = (n: number): SubOperations => ({ completed: n, failed: 0, warnings: 0, remaining: 0 });
const sopsOf = (ts: SplitTarget[]) => ts.flatMap((t) => (Array.isArray(t.sop) ? t.sop : t.sop ? [t.sop] : []));

describe('spreadSeries: a series-level C-GET / C-MOVE over several associations', () => {
  it('deals the listed UIDs round-robin to the associations, each as image-level requests of at most 256 UIDs; the counts add up', async () => {
    const calls: SplitTarget[][] = [];
    const r = await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => uids(600) }, async (ts) => {
      calls.push(ts);
      return ok(sopsOf(ts).length);
    });
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.map((t) => (t.sop as string[]).length))).toEqual([[200], [200], [200]]);
    expect(calls.every((c) => c.every((t) => t.study === 'S' && t.series === 'R'))).toBe(true);
    expect(calls[0]![0]!.sop!.slice(0, 2)).toEqual(['1.2.3.1', '1.2.3.4']);
    // every UID once
    const all = calls.flatMap(sopsOf);
    expect(new Set(all).size).toBe(600);
    expect(all).toHaveLength(600);
    expect(r).toEqual(ok(600));
    // more than 256 for one association: two requests on it
    const big: SplitTarget[][] = [];
    await spreadSeries([{ study: 'S', series: 'R' }], { associations: 2, list: async () => uids(700) }, async (ts) => (big.push(ts), ok(0)));
    expect(big.map((c) => c.map((t) => (t.sop as string[]).length))).toEqual([[256, 94], [256, 94]]);
  });

  it('one association, the targets unchanged, for a study, single images, several targets, a short or failed listing, or associations 1', async () => {
    const seen: SplitTarget[][] = [];
    const one = async (ts: SplitTarget[]) => (seen.push(ts), ok(1));
    let listed = 0;
    const list = async () => (listed++, uids(100));
    await spreadSeries([{ study: 'S' }], { associations: 3, list }, one);
    await spreadSeries([{ study: 'S', series: 'R', sop: 'x' }], { associations: 3, list }, one);
    await spreadSeries([{ study: 'S', series: 'R' }, { study: 'S', series: 'Q' }], { associations: 3, list }, one);
    await spreadSeries([{ study: 'S', series: 'R' }], { associations: 1, list }, one);
    expect(listed).toBe(0);
    await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => uids(5) }, one);
    await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => Promise.reject(new Error('C-FIND refused')) }, one);
    expect(seen).toEqual([[{ study: 'S' }], [{ study: 'S', series: 'R', sop: 'x' }], [{ study: 'S', series: 'R' }, { study: 'S', series: 'Q' }], [{ study: 'S', series: 'R' }], [{ study: 'S', series: 'R' }], [{ study: 'S', series: 'R' }]]);
  });

  it('C-MOVE: an association that fails (a PACS allowing fewer) has its share asked for again on one association afterwards', async () => {
    const calls: string[][] = [];
    let n = 0;
    const r = await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => uids(9) }, async (ts) => {
      const sops = sopsOf(ts);
      calls.push(sops);
      if (n++ === 1) throw new PacsError(PacsReason.AssociationRejected, 'too many associations');
      return ok(sops.length);
    });
    expect(calls).toEqual([['1.2.3.1', '1.2.3.4', '1.2.3.7'], ['1.2.3.2', '1.2.3.5', '1.2.3.8'], ['1.2.3.3', '1.2.3.6', '1.2.3.9'], ['1.2.3.2', '1.2.3.5', '1.2.3.8']]);
    expect(r.completed).toBe(9);
  });

  /** A PACS: the series-level request sends the series in reverse listing order (as Orthanc 1.10 does), one image a tick, until cancelled; an image-level one its UIDs. */
  const pacs = (got: Arrivals, sent: string[], opts: { failShare?: number } = {}) => {
    let shares = 0;
    const one = async (ts: SplitTarget[], _p?: (p: SubOperations) => void, stop?: (cancel: () => void) => void): Promise<SubOperations> => {
      const series = ts.length === 1 && ts[0]!.sop === undefined;
      const todo = series ? uids(60).reverse() : sopsOf(ts);
      const share = series ? -1 : shares++;
      let cancelled = false;
      stop?.(() => (cancelled = true));
      let done = 0;
      for (const u of todo) {
        if (cancelled) break;
        await new Promise((r) => setTimeout(r, 1));
        if (share === opts.failShare && done === 2) throw new PacsError(PacsReason.AssociationAborted, 'aborted');
        sent.push(u);
        got.add(u);
        done++;
      }
      return ok(done);
    };
    return one;
  };

  it('C-GET: the series-level request starts before the listing; then it keeps the block next to its arrivals, is stopped (C-CANCEL) once that block is in, and the rest is dealt to the others', async () => {
    const got = new Arrivals();
    const sent: string[] = [];
    const listed: string[][] = [];
    let listedAfter = -1;
    const r = await spreadSeries(
      [{ study: 'S', series: 'R' }],
      {
        associations: 3,
        list: async () => {
          await new Promise((res) => setTimeout(res, 15));
          listedAfter = got.size;
          listed.push(uids(60));
          return uids(60);
        },
      },
      pacs(got, sent),
      got,
    );
    expect(listedAfter).toBeGreaterThan(0); // images came while the listing ran
    expect(got.size).toBe(60); // every image
    expect(new Set(sent).size).toBe(60);
    expect(sent.length - 60).toBeLessThanOrEqual(1); // at most the one under way when the C-CANCEL went
    expect(r.completed).toBe(sent.length);
  });

  it('C-GET: done before the listing, or the listing failed: the first association alone', async () => {
    for (const late of [true, false]) {
      const got = new Arrivals();
      const sent: string[] = [];
      // late: the listing comes only after the whole series arrived
      const list = () => (late ? new Promise<string[]>((res) => got.listen(() => got.size === 60 && setTimeout(() => res(uids(60)), 0))) : Promise.reject(new Error('C-FIND refused')));
      const r = await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list }, pacs(got, sent), got);
      expect(sent).toEqual(uids(60).reverse());
      expect(r.completed).toBe(60);
    }
  });

  it('C-GET: an association that fails: what it did not bring is asked for again afterwards', async () => {
    const got = new Arrivals();
    const sent: string[] = [];
    const r = await spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => (await new Promise((res) => setTimeout(res, 10)), uids(60)) }, pacs(got, sent, { failShare: 0 }), got);
    expect(got.size).toBe(60);
    expect(new Set(sent).size).toBe(60);
    expect(r.completed).toBe(sent.length - 2); // the failed association's two are not counted (its answer never came)
  });

  it('every association failing, or a cancel: the first failure is thrown, nothing asked again', async () => {
    let calls = 0;
    const refused = new PacsError(PacsReason.NotAnswered, 'does not know us');
    await expect(
      spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => uids(30) }, async () => {
        calls++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(3);
    calls = 0;
    const cancelled = new PacsError(PacsReason.Cancelled, 'cancelled');
    await expect(
      spreadSeries([{ study: 'S', series: 'R' }], { associations: 3, list: async () => uids(30) }, async () => {
        if (calls++ === 0) throw cancelled;
        return ok(10);
      }),
    ).rejects.toBe(cancelled);
    expect(calls).toBe(3);
  });

  it('progress: the sum of the associations', async () => {
    const seen: SubOperations[] = [];
    await spreadSeries([{ study: 'S', series: 'R' }], { associations: 2, list: async () => uids(10), onProgress: (p) => seen.push(p) }, async (_ts, onProgress) => {
      onProgress?.({ completed: 1, failed: 0, warnings: 0, remaining: 4 });
      return ok(5);
    });
    expect(seen.at(-1)).toEqual({ completed: 2, failed: 0, warnings: 0, remaining: 8 });
  });
});
