/** A fuzz worker process: loads the corpus once, then builds and runs each case it is sent, by number. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus } from './corpus';
import { makeCase, prepareMutators } from './mutators';
import { caseSeed, rng } from './prng';
import { runTargets } from './targets';

export interface CaseRequest {
  index: number;
  runSeed: number;
}
export interface CaseReply {
  index: number;
  seed: string;
  mutator: string;
  detail: string;
  size: number;
  outcomes: Awaited<ReturnType<typeof runTargets>>;
  rssMb: number;
}

async function main(): Promise<void> {
  const seeds = await loadCorpus();
  prepareMutators();
  const dir = mkdtempSync(join(tmpdir(), 'medimg-fuzz-case-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  process.on('message', (m: CaseRequest | 'stop') => {
    if (m === 'stop') process.exit(0);
    void (async () => {
      const c = makeCase(seeds, rng(caseSeed(m.runSeed, m.index)));
      const outcomes = await runTargets(c.bytes, dir);
      const reply: CaseReply = { index: m.index, seed: c.seed, mutator: c.mutator, detail: c.detail, size: c.bytes.length, outcomes, rssMb: Math.round(process.memoryUsage().rss / 1048576) };
      process.send!(reply);
    })();
  });
  process.send!({ ready: seeds.length });
}

void main();
