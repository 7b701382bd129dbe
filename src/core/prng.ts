/**
 * A small, fast, deterministic pseudo-random generator (mulberry32): the same seed gives the same sequence on every
 * machine, so generated series, test models and fuzz cases are reproducible. Not for anything secret.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
