/**
 * Issue 14's memory rows, measured in a Chromium the harness does not instrument (uninstrumented.ts):
 *   - stack: what every process of the browser holds after 1,000 512² slices were each shown once,
 *     ÷ their pixel bytes; peers: a bare Cornerstone3D StackViewport over the same instances
 *     (bareStack.ts), the same pixels in Int16Arrays; and the same scroll with a raw DevTools
 *     session attached that only sends Runtime.evaluate (does attaching alone keep copies?)
 *   - volume: what the MPR of a 300-slice 512² CT adds (built from the files) ÷ its pixel bytes;
 *     peer: a bare Cornerstone3D volume in three planes (bareVolume.ts)
 * Every reading is the sum over the browser's process tree (browser, zygotes, renderer, GPU,
 * utility) of Pss_Anon + Pss_Shmem from /proc/<pid>/smaps_rollup: the memory the processes
 * allocated, a page shared by two of them (the shared memory the renderer and the GPU process pass
 * pixels through, pages a zygote shares with its children) counted once, as the machine holds it
 * once. Not RSS: it counts such a page in each process (RSS is in the note). Not the whole PSS: its
 * file-backed part (the chromium binary, libraries) is shared with every other Chromium on this
 * shared machine, so its share moved by ±40 MiB whenever another helper's browser started or ended.
 * Used by the viewer and viewer-mpr benches; `npm run bench viewer-memory` runs only these rows.
 */
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import type { Bench, BenchRow } from './harness';
import { row } from './harness';
import { Services } from '../../src/node/services';
import { findChromium } from '../../src/node/components';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { tempDir } from '../support/tmp';
import { memoryDelta, rawCdpSession, runUninstrumented, type DriverParams, type ProcMemory } from './uninstrumented';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');
const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
const MiB = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

interface Reading {
  /** step name → memory at it */
  at: Record<string, ProcMemory>;
  /** raw CDP variant: what the page said at the end */
  note?: string;
  /** what the page reported at a step */
  data: Record<string, unknown>;
}

/** One scenario in a fresh, uninstrumented browser; the memory at each of `steps`. */
async function scenario(services: Services, exe: string, params: DriverParams, steps: string[], opts: { width: number; height: number; rawCdp?: boolean }): Promise<Reading> {
  const run = await runUninstrumented(services, exe, params, { ...opts, extraArgs: opts.rawCdp ? ['--remote-debugging-port=0'] : [] });
  const at: Record<string, ProcMemory> = {};
  const data: Record<string, unknown> = {};
  let note: string | undefined;
  try {
    const cdp = opts.rawCdp ? await rawCdpSession(run.profileDir) : null;
    try {
      for (const s of steps) {
        const said = await run.step(s);
        if (said && typeof said === 'object' && Object.keys(said).length) data[s] = said;
        // With a raw session: one Runtime.evaluate at every step, the session open all along.
        if (cdp) note = String(await cdp.evaluate('document.querySelectorAll("canvas").length + " canvases"'));
        at[s] = await steadyMemory(run);
        run.proceed();
      }
      await run.step('done');
    } finally {
      cdp?.close();
    }
  } finally {
    await run.close();
  }
  // Each reading as it comes, so a run that fails later still tells it.
  console.error(`  ${params.task}: ${Object.entries(at).map(([k, m]) => `${k} ${MiB(m.held)} (${Object.entries(m.byType).map(([t, v]) => `${t} ${MiB(v.held)}`).join(', ')})`).join('; ')}`);
  return { at, note, data };
}

/**
 * The browser's memory once it has stopped moving: readings 1 s apart until two differ by less
 * than 4 MiB (at most 15 s). Right after start the browser process still frees start-up memory
 * (seen: −42 MiB between two readings 30 s apart), which is not the viewer's.
 */
async function steadyMemory(run: { memory(): ProcMemory }): Promise<ProcMemory> {
  let last = run.memory();
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const m = run.memory();
    const moved = Math.abs(m.held - last.held);
    last = m;
    if (moved < 4096) break;
  }
  return last;
}

const delta = (r: Reading, from: string, to: string, k: 'held' | 'pss' | 'rss' = 'held') => r.at[to]![k] - r.at[from]![k];

/** The stack memory rows (uninstrumented browser): ours, bare Cornerstone3D, typed arrays, ours with a raw DevTools session. */
export async function stackMemoryRows(services: Services, exe: string, seriesId: number, firstInstanceId: number, slices = 1000): Promise<BenchRow[]> {
  const size = { width: 1440, height: 900 };
  const pixelBytes = slices * 512 * 512 * 2;
  const steps = ['before', 'after', 'later'];
  const loadBefore = load();
  const ours = await scenario(services, exe, { task: 'stack-ours', seriesId, firstInstanceId, slices }, steps, size);
  const loadOurs = load();
  const bare = await scenario(services, exe, { task: 'stack-bare', seriesId, slices }, steps, size);
  const typed = await scenario(services, exe, { task: 'typed', slices }, steps, size);
  const cdp = await scenario(services, exe, { task: 'stack-ours', seriesId, firstInstanceId, slices }, steps, { ...size, rawCdp: true });
  const ratio = (r: Reading, k: 'held' | 'pss' | 'rss' = 'held') => (delta(r, 'before', 'after', k) * 1024) / pixelBytes;
  const detail = (r: Reading) =>
    `+${MiB(delta(r, 'before', 'after'))} (${memoryDelta(r.at.before!, r.at.after!)}); whole PSS ${ratio(r, 'pss').toFixed(2)}×, RSS ${ratio(r, 'rss').toFixed(2)}×; 10 s later, GC'd: ${((delta(r, 'before', 'later') * 1024) / pixelBytes).toFixed(2)}×`;
  const goal = '≤ 1.5×';
  return [
    row({
      metric: `memory held after showing ${slices.toLocaleString('en')} 512² slices ÷ their pixel bytes — uninstrumented Chromium (no DevTools), all its processes (anonymous + shared memory, PSS)`,
      ours: ratio(ours),
      peer: ratio(bare),
      peerName: 'bare Cornerstone3D StackViewport, same instances (bareStack.ts), own fresh browser',
      unit: '×',
      better: 'lower',
      goal,
      met: ratio(ours) <= 1.5,
      note: `pixel bytes ${MiB(pixelBytes / 1024)}; ours ${detail(ours)}; bare ${detail(bare)}; same pixels in Int16Arrays ${ratio(typed).toFixed(2)}× (${detail(typed)}); ${loadBefore} before, ${loadOurs} after ours`,
    }),
    row({
      metric: `memory held after showing ${slices.toLocaleString('en')} 512² slices ÷ pixel bytes — same, a raw DevTools session attached (Runtime.evaluate only, no Network domain)`,
      ours: ratio(cdp),
      peer: ratio(ours),
      peerName: 'ours, no DevTools attached (row above)',
      unit: '×',
      better: 'lower',
      goal: 'check: ≈ the uninstrumented row',
      note: `${detail(cdp)}; page said "${cdp.note}"; ${load()}`,
    }),
  ];
}

/** The volume memory rows (uninstrumented browser): ours (MPR button), bare Cornerstone3D volume. */
export async function volumeMemoryRows(services: Services, exe: string, seriesId: number, slices = 300): Promise<BenchRow[]> {
  const size = { width: 1920, height: 1080 };
  const pixelBytes = slices * 512 * 512 * 2;
  const chunk = readdirSync(join(rendererDir, 'assets')).find((f) => /^MprView-.*\.js$/.test(f));
  if (!chunk) throw new Error('no MprView chunk in dist/renderer/assets');
  const mprChunk = `/assets/${chunk}`;
  const loadBefore = load();
  const ours = await scenario(services, exe, { task: 'mpr-ours', seriesId, mprChunk }, ['empty', 'stack', 'purged', 'after', 'later', 'back', 'again'], size);
  const bare = await scenario(services, exe, { task: 'mpr-bare', seriesId, mprChunk }, ['before', 'after', 'later'], size);
  const texture = await scenario(services, exe, { task: 'texture', slices }, ['before', 'after', 'later'], size);
  // Read 10 s after the volume is complete (GC'd). Right after it the renderer held ≈ 70–107 MiB more,
  // given back within those seconds: the decode worker's uncollected garbage (the files' buffers; its
  // heap is not the page's gc()), which the MPR now frees by ending the idle worker at completion
  // (the "1 s after complete" figure in the note shows what is left of it).
  const r = (x: Reading, from: string, k: 'held' | 'pss' | 'rss' = 'held', to = 'later') => (delta(x, from, to, k) * 1024) / pixelBytes;
  const ours1 = r(ours, 'purged');
  return [
    row({
      metric: `memory the MPR of a ${slices}-slice 512² CT adds (built from the files; 10 s after complete) ÷ its pixel bytes — uninstrumented Chromium, all its processes incl. GPU (anonymous + shared memory, PSS)`,
      ours: ours1,
      peer: r(bare, 'before'),
      peerName: 'bare Cornerstone3D volume, three planes (bareVolume.ts), own fresh browser',
      unit: '×',
      better: 'lower',
      goal: '≤ 1.2×',
      met: ours1 <= 1.2,
      note: `read 10 s after complete; pixel bytes ${MiB(pixelBytes / 1024)}; ours +${MiB(delta(ours, 'purged', 'later'))} (${memoryDelta(ours.at.purged!, ours.at.later!)}), whole PSS ${r(ours, 'purged', 'pss').toFixed(2)}×, RSS ${r(ours, 'purged', 'rss').toFixed(2)}×, 1 s after complete ${r(ours, 'purged', 'held', 'after').toFixed(2)}× (${memoryDelta(ours.at.purged!, ours.at.after!)}); bare +${MiB(delta(bare, 'before', 'later'))} (${memoryDelta(bare.at.before!, bare.at.later!)}), whole PSS ${r(bare, 'before', 'pss').toFixed(2)}×, RSS ${r(bare, 'before', 'rss').toFixed(2)}×, 1 s after complete ${r(bare, 'before', 'held', 'after').toFixed(2)}×; floor, one raw WebGL2 R16F 3D texture of the volume's size filled slice by slice: ${r(texture, 'before').toFixed(2)}× (${memoryDelta(texture.at.before!, texture.at.later!)}); ${loadBefore} before, ${load()} after`,
    }),
    row({
      metric: `memory held for the series in MPR from an empty viewer (stack shown, its caches purged, MPR, 10 s) ÷ pixel bytes — uninstrumented`,
      ours: r(ours, 'empty', 'held', 'later'),
      unit: '×',
      better: 'lower',
      note: `at MPR complete the page said ${JSON.stringify(ours.data.after)}; 10 s later ${(delta(ours, 'after', 'later') / 1024).toFixed(0)} MiB (${memoryDelta(ours.at.after!, ours.at.later!)}); a second MPR (back to the stack, purge, MPR again) adds ${((delta(ours, 'back', 'again') * 1024) / pixelBytes).toFixed(2)}× (${memoryDelta(ours.at.back!, ours.at.again!)}); back to the stack + purge after the first: ${memoryDelta(ours.at.after!, ours.at.back!)}; stack shown +${MiB(delta(ours, 'empty', 'stack'))} (${memoryDelta(ours.at.empty!, ours.at.stack!)}); after purge +${MiB(delta(ours, 'empty', 'purged'))}; MPR complete + 10 s +${MiB(delta(ours, 'empty', 'later'))} (${memoryDelta(ours.at.empty!, ours.at.later!)})`,
    }),
  ];
}

export const memoryBenches: Bench[] = [
  {
    name: 'viewer-memory',
    description: "issue 14's memory rows alone, in an uninstrumented Chromium: 1,000-slice stack, 300-slice volume, vs bare Cornerstone3D",
    async run(): Promise<BenchRow[]> {
      const exe = findChromium();
      if (!exe) throw new Error('Chromium not found (apt-get install chromium)');
      if (!existsSync(join(rendererDir, 'index.html'))) execFileSync(process.execPath, [join(repo, 'scripts/build.mjs')], { stdio: 'inherit' });
      const home = tempDir('medimg-bench-mem-');
      const data = tempDir('medimg-bench-mem-series-');
      const services = await Services.open({ home: home.path, ledger: { mode: 'none' } });
      const table = createHandlerTable(services);
      const call = async <T>(channel: string, request: unknown): Promise<T> => {
        const r = (await dispatch(table, channel, request, { url: 'bench', trusted: true })) as { ok: boolean; value: T; error?: { message: string } };
        if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
        return r.value;
      };
      try {
        const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
        const rows: BenchRow[] = [];
        for (const [slices, seed] of [
          [1000, 502],
          [300, 601],
        ] as const) {
          if (only && only !== String(slices)) continue;
          const dir = join(data.path, `ct${slices}`);
          await writeSampleSeries({ outDir: dir, slices, kind: 'ct', seed });
          const { studyIds } = await call<{ studyIds: number[] }>('library.import', { paths: [dir] });
          const { series } = await call<{ series: { id: number }[] }>('library.series', { studyId: studyIds[0]! });
          const first = (await call<{ instances: { id: number }[] }>('library.instances', { seriesId: series[0]!.id })).instances[0]!.id;
          rows.push(...(slices === 1000 ? await stackMemoryRows(services, exe, series[0]!.id, first, slices) : await volumeMemoryRows(services, exe, series[0]!.id, slices)));
        }
        return rows;
      } finally {
        await services.close();
        home.cleanup();
        data.cleanup();
      }
    },
  },
];
