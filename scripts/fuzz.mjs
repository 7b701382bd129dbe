#!/usr/bin/env node
// `npm run fuzz [--cases N] [--seed S] [--case I] [--workers W] [--out FILE]`: the fuzz harness (test/fuzz).
// Bundles the harness and its worker with esbuild, then runs it; the summary goes to bench-results/fuzz.json.
import { build } from 'esbuild';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'fuzz');
await build({
  entryPoints: { run: join(root, 'test/fuzz/run.ts'), child: join(root, 'test/fuzz/child.ts') },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
});
const { main } = createRequire(import.meta.url)(join(outdir, 'run.cjs'));
process.exit(await main(process.argv.slice(2), join(outdir, 'child.cjs'), join(root, 'bench-results', 'fuzz.json')));
