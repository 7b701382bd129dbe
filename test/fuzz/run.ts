/**
 * `npm run fuzz [--cases N] [--seed S] [--workers W] [--out FILE]`: damaged and hostile files through import,
 * fingerprint, thumbnail and PNG export, each case in a worker process bounded in time and memory.
 * Goal: 0 crashes, 0 hangs, 0 over the memory bound, and every rejection a specific message in DICOM terms.
 * A case is reproducible from the run's seed and its number: `npm run fuzz -- --seed S --case I`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import type { CaseReply } from './child';

export interface FuzzOptions {
  cases: number;
  seed: number;
  workers: number;
  /** one case, all targets (ms) */
  timeoutMs: number;
  /** resident memory of a worker after a case (MB) */
  memoryMb: number;
  /** only this case number (reproduce one) */
  only?: number;
  childScript: string;
  onProgress?: (done: number, total: number) => void;
}

export type Failure = { index: number; kind: 'crash' | 'hang' | 'memory'; seed?: string; mutator?: string; detail?: string; target?: string; message: string };

export interface FuzzSummary {
  seed: number;
  cases: number;
  seeds: number;
  workers: number;
  seconds: number;
  loadAverage: number;
  crashes: number;
  hangs: number;
  overMemory: number;
  /** target → outcome → count */
  outcomes: Record<string, Record<string, number>>;
  /** mutator → cases */
  mutators: Record<string, number>;
  /** rejection code → count, over every target */
  rejectionCodes: Record<string, number>;
  /** distinct rejection messages (first 60) with their count */
  messages: { message: string; count: number }[];
  failures: Failure[];
}

class Worker {
  child: ChildProcess;
  ready: Promise<number>;
  constructor(script: string, memoryMb: number) {
    this.child = fork(script, [], { execArgv: [`--max-old-space-size=${memoryMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.resume();
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: { ready?: number }) => {
        if (typeof m?.ready === 'number') {
          this.child.off('message', onMsg);
          resolve(m.ready);
        }
      };
      this.child.on('message', onMsg);
      this.child.once('exit', (code) => reject(new Error(`fuzz worker exited while loading the corpus (code ${code})`)));
    });
  }
  run(index: number, runSeed: number, timeoutMs: number): Promise<CaseReply | { hang: true } | { exit: string }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        this.child.kill('SIGKILL');
        resolve({ hang: true });
      }, timeoutMs);
      const onMsg = (m: CaseReply) => {
        if (m.index !== index) return;
        cleanup();
        resolve(m);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        resolve({ exit: signal ? `killed by ${signal}` : `exited with code ${code}` });
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.child.off('message', onMsg);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMsg);
      this.child.once('exit', onExit);
      this.child.send({ index, runSeed });
    });
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const t0 = performance.now();
  const load = loadavg()[0]!;
  const indices = o.only !== undefined ? [o.only] : Array.from({ length: o.cases }, (_, i) => i);
  const s: FuzzSummary = { seed: o.seed, cases: indices.length, seeds: 0, workers: o.workers, seconds: 0, loadAverage: load, crashes: 0, hangs: 0, overMemory: 0, outcomes: {}, mutators: {}, rejectionCodes: {}, messages: [], failures: [] };
  const messages = new Map<string, number>();
  let next = 0;
  let done = 0;
  const lane = async () => {
    let w = new Worker(o.childScript, o.memoryMb);
    s.seeds = await w.ready;
    try {
      while (next < indices.length) {
        const index = indices[next++]!;
        const r = await w.run(index, o.seed, o.timeoutMs);
        if ('hang' in r || 'exit' in r) {
          const kind = 'hang' in r ? 'hang' : 'crash';
          s.failures.push({ index, kind, message: 'hang' in r ? `no answer within ${o.timeoutMs} ms` : `worker ${r.exit}` });
          if (kind === 'hang') s.hangs++;
          else s.crashes++;
          w.stop();
          w = new Worker(o.childScript, o.memoryMb);
          await w.ready;
        } else {
          s.mutators[r.mutator] = (s.mutators[r.mutator] ?? 0) + 1;
          for (const out of r.outcomes) {
            const t = (s.outcomes[out.target] ??= {});
            t[out.result] = (t[out.result] ?? 0) + 1;
            if (out.result === 'crash') {
              s.crashes++;
              s.failures.push({ index, kind: 'crash', seed: r.seed, mutator: r.mutator, detail: r.detail, target: out.target, message: out.message });
            } else if (out.result === 'rejected') {
              s.rejectionCodes[out.code] = (s.rejectionCodes[out.code] ?? 0) + 1;
              messages.set(out.message, (messages.get(out.message) ?? 0) + 1);
            }
          }
          if (r.rssMb > o.memoryMb * 1.5) {
            s.overMemory++;
            s.failures.push({ index, kind: 'memory', seed: r.seed, mutator: r.mutator, detail: r.detail, message: `worker resident memory ${r.rssMb} MB after the case` });
            w.stop();
            w = new Worker(o.childScript, o.memoryMb);
            await w.ready;
          }
        }
        o.onProgress?.(++done, indices.length);
      }
    } finally {
      w.stop();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.workers, indices.length) }, lane));
  s.seconds = (performance.now() - t0) / 1000;
  s.messages = [...messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 60).map(([message, count]) => ({ message, count }));
  s.failures.sort((a, b) => a.index - b.index);
  return s;
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: string[], childScript: string, defaultOut: string): Promise<number> {
  const cases = Number(arg(argv, 'cases') ?? 10_000);
  const seed = Number(arg(argv, 'seed') ?? 1);
  const only = arg(argv, 'case');
  const out = arg(argv, 'out') ?? defaultOut;
  const workers = Number(arg(argv, 'workers') ?? Math.max(1, cpus().length));
  const opts: FuzzOptions = { cases, seed, workers, timeoutMs: Number(arg(argv, 'timeout-ms') ?? 120_000), memoryMb: 1024, childScript, only: only === undefined ? undefined : Number(only) };
  let last = 0;
  opts.onProgress = (d, t) => {
    const pct = Math.floor((d * 100) / t);
    if (pct >= last + 5 || d === t) {
      last = pct;
      process.stderr.write(`fuzz: ${d}/${t} cases\n`);
    }
  };
  const s = await runFuzz(opts);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(s, null, 2));
  const line = (k: string, v: string | number) => console.log(`${k.padEnd(22)} ${v}`);
  console.log(`\nfuzz: ${s.cases} cases from ${s.seeds} seed files, run seed ${s.seed}, ${s.workers} workers, ${s.seconds.toFixed(1)} s (load ${s.loadAverage.toFixed(1)})`);
  line('crashes', s.crashes);
  line('hangs', s.hangs);
  line('over memory bound', s.overMemory);
  for (const [t, counts] of Object.entries(s.outcomes)) line(`  ${t}`, Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '));
  line('rejection codes', Object.entries(s.rejectionCodes).map(([k, v]) => `${k} ${v}`).join(', '));
  for (const f of s.failures.slice(0, 20)) console.log(`FAIL case ${f.index} ${f.kind} ${f.target ?? ''} [${f.mutator ?? '?'} on ${f.seed ?? '?'}: ${f.detail ?? ''}] ${f.message}  (repro: npm run fuzz -- --seed ${s.seed} --case ${f.index})`);
  console.log(`summary written to ${out}`);
  return s.crashes + s.hangs + s.overMemory === 0 ? 0 : 1;
}
