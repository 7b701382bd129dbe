/**
 * `npm run bench scale [-- --instances N] [--anchors K]`: the library at scale (issue 16).
 *   - N instances (default 10,000; the issue's figure is `--instances 100000`) of small generated
 *     slices (the project's generator, 64×64, studies of 50 slices) imported in batches of 1,000:
 *     the rate of the last batches vs the first 1,000's (goal ≥ 0.9×);
 *   - the study browser's node-side query (library.studies: search + sort, as the browser asks) on
 *     the full library (goal ≤ 100 ms);
 *   - a 2,000-instance series: its instance list ready (library.instances, what the viewer asks
 *     for first) (goal ≤ 300 ms);
 *   - the main process's resident memory, peak over the run (goal ≤ 500 MB);
 *   - K studies (default 100; the issue's figure is `--anchors 1000`) anchored in a row through the
 *     outbox on the embedded anvil: every root on chain exactly once, and the sync at the head.
 * Generating 100,000 slices takes a while (minutes); the default run is the smaller one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchRow } from './harness';
import { row, timeIt, timeItAsync, median } from './harness';
import { Services } from '../../src/node/services';
import type { SampleOptions, SampleResult } from '../../src/node/dicom/sample';
import { DEMO_PASSPHRASE } from '../../src/node/ledger';
import { tempDir } from '../support/tmp';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

/**
 * The project's generator in a child process (dist/bench/generate-series.mjs, built beside this
 * bundle by scripts/bench.mjs): the memory row measures the services, not the generator.
 */
function generate(jobs: SampleOptions[]): Promise<SampleResult[]> {
  const script = fileURLToPath(new URL('./generate-series.mjs', import.meta.url));
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [script, JSON.stringify(jobs)], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`sample generator: ${stderr || err.message}`)) : resolve(JSON.parse(stdout) as SampleResult[]),
    ),
  );
}


export const scaleBench: Bench = {
  name: 'scale',
  description: 'a library of N small generated instances (--instances, default 10,000): import rate over time, browser query, 2,000-instance series, memory, K anchors in a row (--anchors, default 100)',
  async run() {
    const instances = arg('instances', 10_000);
    const anchors = arg('anchors', 100);
    const perStudy = 50;
    const batch = 1000;
    const tmp = tempDir('medimg-bench-scale-');
    // Peak resident memory of this process (the services; the generator runs in a child), overall
    // and per phase so a miss says where it happened.
    let peakRss = 0;
    let phasePeak = 0;
    const phases: string[] = [];
    const sample = () => {
      const r = process.memoryUsage().rss;
      peakRss = Math.max(peakRss, r);
      phasePeak = Math.max(phasePeak, r);
    };
    const endPhase = (name: string) => {
      sample();
      phases.push(`${name} ${(phasePeak / 1048576).toFixed(0)}`);
      phasePeak = 0;
    };
    const sampler = setInterval(sample, 200);
    const rows: BenchRow[] = [];
    const load0 = loadavg()[0]!;
    const s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' }, storageScp: false });
    try {
      // 1. Import in batches of 1,000 (20 studies of 50 slices each), timing each batch.
      const rates: number[] = [];
      let seed = 1000;
      for (let done = 0; done < instances; done += batch) {
        const dir = join(tmp.path, 'lib', `b${String(done / batch).padStart(4, '0')}`);
        mkdirSync(dir, { recursive: true });
        const n = Math.min(batch, instances - done);
        const jobs: SampleOptions[] = [];
        for (let k = 0; k < n; k += perStudy) jobs.push({ outDir: join(dir, `s${k}`), slices: Math.min(perStudy, n - k), kind: seed % 2 ? 'ct' : 'mr', seed: seed++, matrix: 64 });
        await generate(jobs);
        const imp = await timeItAsync(() => s.tasks.run('import', null, (task) => s.library.import([dir], task)));
        if (imp.value.added !== n) throw new Error(`batch ${done / batch}: indexed ${imp.value.added} of ${n}`);
        rates.push(n / (imp.ms / 1000));
      }
      endPhase('import');
      const first = rates[0]!;
      const tail = rates.slice(-Math.min(3, rates.length));
      const last = tail.reduce((a, b) => a + b, 0) / tail.length;
      rows.push(row({ metric: `import rate, first 1,000 (empty library)`, ours: first, unit: 'files/s', better: 'higher' }));
      rows.push(
        row({ metric: `import rate, last ${tail.length} × 1,000 (library of ${instances.toLocaleString('en')})`, ours: last, peer: first, peerName: 'first 1,000', unit: 'files/s', better: 'higher', goal: '≥ 0.9 × first 1,000', met: last >= 0.9 * first }),
      );

      // 2. The 2,000-instance series (imported after the rate batches; not counted in them).
      const [big] = (await generate([{ outDir: join(tmp.path, 'big'), slices: 2000, kind: 'ct', seed: 7, matrix: 64 }])) as [SampleResult];
      await s.tasks.run('import', null, (task) => s.library.import([join(tmp.path, 'big')], task));
      const bigStudy = s.library.studies({ search: '', limit: 5000 }).studies.find((x) => x.studyInstanceUid === big.studyInstanceUid)!;
      const bigSeries = s.library.series(bigStudy.id).series[0]!;
      const opens = [0, 1, 2, 3, 4].map(() => timeIt(() => s.library.instances(bigSeries.id)));
      if (opens[0]!.value.instances.length !== 2000) throw new Error(`the series lists ${opens[0]!.value.instances.length} instances`);
      rows.push(row({ metric: 'open a 2,000-instance series: instance list ready (library.instances, median of 5)', ours: median(opens.map((o) => o.ms)), unit: 'ms', better: 'lower', goal: '≤ 300 ms', met: median(opens.map((o) => o.ms)) <= 300 }));
      // What the viewport's stack waits for now (the lean list), beside the full list in the same run; sizes as sent.
      const leans = [0, 1, 2, 3, 4].map(() => timeIt(() => s.library.stack(bigSeries.id)));
      if (leans[0]!.value.ids.length !== 2000) throw new Error(`the stack lists ${leans[0]!.value.ids.length} instances`);
      const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
      rows.push(
        row({
          metric: "open a 2,000-instance series: the viewport's stack list ready (library.stack, median of 5)",
          ours: median(leans.map((o) => o.ms)),
          peer: median(opens.map((o) => o.ms)),
          peerName: 'library.instances, same run',
          unit: 'ms',
          better: 'lower',
          goal: '≤ 300 ms',
          met: median(leans.map((o) => o.ms)) <= 300,
          note: `${(bytes(leans[0]!.value) / 1024).toFixed(0)} KiB as JSON vs ${(bytes(opens[0]!.value) / 1024).toFixed(0)} KiB`,
        }),
      );

      endPhase('2,000-instance series');
      // 3. The study browser's query: search + each sort, as the browser asks (limit as the browser).
      const total = s.library.studies({ search: '', limit: 1 }).total;
      let worst = 0;
      for (const q of [
        { search: '', sort: 'date' as const, order: 'desc' as const },
        { search: '', sort: 'name' as const, order: 'asc' as const },
        { search: 'SYNTH', sort: 'id' as const, order: 'asc' as const },
        { search: 'chest', sort: 'modality' as const, order: 'desc' as const },
        { search: 'no such patient', sort: 'date' as const, order: 'desc' as const },
      ]) {
        const t = median([0, 1, 2, 3, 4].map(() => timeIt(() => s.library.studies({ ...q, limit: 500 })).ms));
        worst = Math.max(worst, t);
      }
      rows.push(row({ metric: `study browser search + sort (${total.toLocaleString('en')} studies; worst of 5 queries, median of 5 each)`, ours: worst, unit: 'ms', better: 'lower', goal: '≤ 100 ms', met: worst <= 100 }));

      endPhase('browser');
      // 4. K studies anchored in a row through the outbox.
      const demo = await s.ledgerService.demo.ensure();
      if (!demo.ready) throw new Error(`demo setup: ${demo.message}`);
      const addrs = s.ledgerService.demo.addresses();
      await s.identity.unlock(addrs.clinician!, DEMO_PASSPHRASE);
      const uids = s.library
        .studies({ search: '', sort: 'date', order: 'asc', limit: 5000 })
        .studies.map((x) => x.studyInstanceUid)
        .filter((u) => u !== big.studyInstanceUid && u !== demo.study?.studyInstanceUid)
        .slice(0, anchors);
      const a = await timeItAsync(async () => {
        const roots: string[] = [];
        for (const uid of uids) roots.push((await s.ledgerService.anchors.anchorStudy(uid, { patient: addrs.patient!, waitMs: 0 })).anchor.root);
        // Wait until the outbox has delivered every one.
        for (let i = 0; ; i++) {
          const c = s.ledgerService.outbox.counts();
          if (c.queued + c.sent === 0) break;
          if (i > 6000) throw new Error(`outbox still has ${c.queued} queued, ${c.sent} sent`);
          await new Promise((r) => setTimeout(r, 100));
        }
        return roots;
      });
      const conn = await s.ledgerService.chain.require();
      const topic = conn.contract.interface.getEvent('StudyAnchored')!.topicHash;
      const logs = await conn.provider.getLogs({ address: conn.address, topics: [topic], fromBlock: 0, toBlock: 'latest' });
      const onChain = new Map<string, number>();
      for (const l of logs) onChain.set(l.topics[1]!, (onChain.get(l.topics[1]!) ?? 0) + 1);
      const once = a.value.filter((r) => onChain.get(r) === 1).length;
      const failed = s.ledgerService.outbox.counts().failed;
      rows.push(row({ metric: `anchor ${uids.length} studies in a row through the outbox`, ours: uids.length / (a.ms / 1000), unit: 'studies/s', better: 'higher', note: `${once} of ${uids.length} on chain exactly once, ${failed} failed` }));
      rows.push(row({ metric: 'anchored studies on chain exactly once', ours: once, unit: 'studies', better: 'higher', goal: `${uids.length}`, met: once === uids.length && failed === 0 }));
      await s.ledgerService.sync.sync();
      const head = await conn.provider.getBlockNumber();
      const st = await s.ledgerService.sync.status();
      const lag = head - (st.lastSyncedBlock ?? 0);
      rows.push(row({ metric: 'sync behind the chain head after the run', ours: lag, unit: 'blocks', better: 'lower', goal: '0', met: lag === 0 }));

      endPhase('anchors + sync');
      rows.push(
        row({
          metric: 'main process resident memory, peak over the run (generator in a child process)',
          ours: peakRss / 1048576,
          unit: 'MB',
          better: 'lower',
          goal: '≤ 500 MB',
          met: peakRss / 1048576 <= 500,
          note: `peak per phase, MB: ${phases.join(', ')}`,
        }),
      );
      rows.push(row({ metric: 'machine load (1-min average, start → end)', ours: loadavg()[0]!, unit: 'load', better: 'lower', note: `start ${load0.toFixed(1)}; ${instances.toLocaleString('en')} instances, ${anchors} anchors` }));
      return rows;
    } finally {
      clearInterval(sampler);
      await s.close();
      tmp.cleanup();
    }
  },
};
