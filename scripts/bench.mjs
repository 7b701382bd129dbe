#!/usr/bin/env node
// `npm run bench [name...]`: runs the named benchmarks (all by default), writes
// bench-results/<name>.json and prints one table. Each row compares ours with a peer measured in
// the same run.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'dist', 'bench', 'bench.mjs');
/** A bench program as one ESM bundle (node_modules left external). */
const bundle = (entry, outfile) =>
  build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
await bundle('test/bench/index.ts', outFile);
// The series generator as its own program, so a bench can run it in a child process (scale keeps
// the generator's memory out of the resident-memory row it measures).
await bundle('test/bench/child/generate-series.ts', join(root, 'dist', 'bench', 'generate-series.mjs'));
const { benches } = await import(pathToFileURL(outFile).href);
// Names only: `--flag value` pairs are for the benchmarks themselves (e.g. scale's --instances 100000).
const wanted = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
const selected = wanted.length ? benches.filter((b) => wanted.includes(b.name)) : benches;
if (wanted.length && selected.length !== wanted.length) {
  console.error(`unknown benchmark(s); known: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const dir = join(root, 'bench-results');
mkdirSync(dir, { recursive: true });
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.versions.node, platform: process.platform };
const all = [];
let failures = 0;
for (const b of selected) {
  process.stdout.write(`running ${b.name}: ${b.description} …\n`);
  const t0 = Date.now();
  try {
    const rows = await b.run();
    const result = { name: b.name, description: b.description, date: new Date().toISOString(), machine, seconds: (Date.now() - t0) / 1000, rows };
    writeFileSync(join(dir, `${b.name}.json`), JSON.stringify(result, null, 2));
    all.push(...rows.map((r) => ({ bench: b.name, ...r })));
  } catch (err) {
    failures++;
    console.error(`  ${b.name} failed: ${err?.stack ?? err}`);
  }
}
const fmt = (v) => (v === undefined ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));
const rows = [['bench', 'metric', 'ours', 'peer', 'peer is', 'ratio', 'unit', 'goal', 'met']];
for (const r of all) rows.push([r.bench, r.metric, fmt(r.ours), fmt(r.peer), r.peerName ?? '-', r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}×`, r.unit, r.goal ?? '-', r.met === undefined ? '-' : r.met ? 'yes' : 'NO']);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
console.log('\n' + rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n'));
console.log(`\nratio = ours / peer. Results: ${dir}`);
process.exit(failures ? 1 : 0);
