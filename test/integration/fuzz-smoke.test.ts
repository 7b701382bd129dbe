import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp';
import { MUTATORS } from '../fuzz/mutators';
import { leaksInternals } from '../fuzz/targets';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The short run of `npm run fuzz` (the long one, 10,000+ cases, is in docs/conformance.md): a fixed seed, 300 cases of
// damaged and hostile files through import, fingerprint, thumbnail and PNG export, each in a worker bounded in time
// and memory. Needs pydicom's test files (the corpus).
describe('fuzz harness, short run (300 cases, fixed seed)', () => {
  it('no crash, no hang, no worker over its memory bound; every rejection a specific message in DICOM terms', () => {
    const out = tempDir();
    try {
      const file = join(out.path, 'fuzz.json');
      const r = spawnSync(process.execPath, [join(root, 'scripts/fuzz.mjs'), '--cases', '300', '--seed', '20261129', '--out', file], { encoding: 'utf8', timeout: 600_000 });
      const s = JSON.parse(readFileSync(file, 'utf8')) as {
        cases: number;
        seeds: number;
        crashes: number;
        hangs: number;
        overMemory: number;
        mutators: Record<string, number>;
        outcomes: Record<string, Record<string, number>>;
        rejectionCodes: Record<string, number>;
        messages: { message: string; count: number }[];
        failures: unknown[];
      };
      expect(s.failures).toEqual([]);
      expect(r.status).toBe(0);
      expect(s.cases).toBe(300);
      expect(s.seeds).toBeGreaterThanOrEqual(50); // pydicom's readable files + generated slices
      expect([s.crashes, s.hangs, s.overMemory]).toEqual([0, 0, 0]);
      // Every kind of damage was tried, and every target saw every case.
      expect(Object.keys(s.mutators).sort()).toEqual(Object.keys(MUTATORS).sort());
      for (const t of ['import', 'fingerprint', 'thumbnail', 'png']) {
        const counts = s.outcomes[t]!;
        expect((counts.ok ?? 0) + (counts.rejected ?? 0)).toBe(300);
        expect(counts.rejected).toBeGreaterThan(100);
      }
      // Split/rebuild ran on every case the import accepted (byte-exact rebuild, else a crash) and only on those.
      const split = s.outcomes.split!;
      expect((split.ok ?? 0) + (split.rejected ?? 0)).toBe(s.outcomes.import!.ok);
      expect(split.skipped).toBe(s.outcomes.import!.rejected);
      expect(split.ok).toBeGreaterThan(30); // 44 with this seed
      // The rejections name the problem (codes the UI knows) and no message carries a library's own words.
      for (const code of Object.keys(s.rejectionCodes)) expect(code).toMatch(/^[A-Z_]+$/);
      for (const m of s.messages) expect(leaksInternals(m.message), m.message).toBeNull();
      expect(s.messages.some((m) => /truncated/.test(m.message))).toBe(true);
    } finally {
      out.cleanup();
    }
  });
});
