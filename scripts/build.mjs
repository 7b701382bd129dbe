#!/usr/bin/env node
// Builds the three bundles the app is made of:
//   node     -> dist/cli/*.cjs and dist/workers/*.cjs (esbuild; also used by the CLI bin and the tests)
//   electron -> dist/electron/{main,preload}.cjs (esbuild; Electron's own modules stay external)
//   renderer -> dist/renderer (Vite)
// `--node` builds only the Node bundles (what `npm ci` runs through `prepare`).
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.includes('--node') ? 'node' : 'all';

// Native and data-carrying packages are loaded from node_modules at run time, not bundled.
const external = ['better-sqlite3', 'electron', 'solc', '@foundry-rs/*', 'fsevents', 'onnxruntime-node'];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external,
  logLevel: 'warning',
  absWorkingDir: root,
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** Worker entry points: every file named *.worker.ts under src/node becomes dist/workers/<name>.cjs. */
function workerEntries() {
  const out = {};
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.worker.ts')) out[`workers/${basename(e.name, '.ts')}`] = p;
    }
  };
  walk(join(root, 'src/node'));
  return out;
}

async function buildNode() {
  await build({
    ...common,
    entryPoints: { 'cli/main': 'src/cli/main.ts', ...workerEntries() },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
  });
}

async function buildElectron() {
  await build({
    ...common,
    entryPoints: { 'electron/main': 'electron/main.ts', 'electron/preload': 'electron/preload.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
  });
}

async function buildRenderer() {
  const { build: viteBuild } = await import('vite');
  rmSync(join(root, 'dist/renderer'), { recursive: true, force: true });
  await viteBuild({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
}

try {
  if (!existsSync(join(root, 'src/cli/main.ts'))) process.exit(0);
  // Solidity → contracts/build + typed bindings in src/node/ledger/generated (cached by source hash).
  await (await import('./compile-contracts.mjs')).compileContracts({ quiet: true });
  await buildNode();
  if (only === 'all') {
    // The app icon in every packaged size, from assets/icon.svg (cached by the source's hash).
    (await import('./icons.mjs')).renderIcons({ quiet: true });
    await buildElectron();
    await buildRenderer();
  }
} catch (err) {
  console.error(`build failed: ${err?.message ?? err}`);
  process.exit(1);
}
