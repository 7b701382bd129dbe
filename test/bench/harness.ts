/**
 * The benchmark harness behind `npm run bench`. A benchmark measures ours and a peer in the same
 * run and reports the ratio; goals are stated, never asserted in tests.
 */
export interface BenchRow {
  metric: string;
  ours: number;
  /** The peer's value for the same work in the same run, when there is one. */
  peer?: number;
  peerName?: string;
  unit: string;
  /** ours / peer, or peer / ours for "higher is better" units; see `better`. */
  ratio?: number;
  better: 'lower' | 'higher';
  goal?: string;
  met?: boolean;
  note?: string;
}

export interface Bench {
  name: string;
  description: string;
  run(): Promise<BenchRow[]>;
}

export function row(r: Omit<BenchRow, 'ratio'>): BenchRow {
  const ratio = r.peer === undefined || r.peer === 0 ? undefined : r.ours / r.peer;
  return { ...r, ratio };
}

export function timeIt<T>(fn: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export async function timeItAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** The median (of an even count, the mean of the middle two: a "median of 2" is not the larger one). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
