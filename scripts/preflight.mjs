#!/usr/bin/env node
// The test suite's preflight: every external program, module and data set the tests use (the same list
// `medimgshr doctor` reports, from src/node/components.ts), one line each. With CI set, a missing one fails
// the run here, naming the package that installs it, instead of failing tests one by one later.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Loads src/node/components.ts (bundled in memory by esbuild; nothing of the build is needed yet). */
export async function loadComponents() {
  const out = await build({
    entryPoints: [join(root, 'src/node/components.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'error',
    define: { 'import.meta.url': '__importMetaUrl' },
    // resolve packages from the project, as the real bundles do
    banner: { js: `const __importMetaUrl = ${JSON.stringify(new URL('../package.json', import.meta.url).href)};` },
  });
  const dir = mkdtempSync(join(tmpdir(), 'medimg-preflight-'));
  try {
    const file = join(dir, 'components.cjs');
    writeFileSync(file, out.outputFiles[0].text);
    return createRequire(import.meta.url)(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function preflight({ ci = Boolean(process.env.CI) } = {}) {
  const { detectComponents, missingComponents } = await loadComponents();
  const components = detectComponents();
  console.log('what the tests use:');
  for (const c of components) {
    const status = c.found ? 'ok     ' : c.optional ? 'absent ' : 'MISSING';
    console.log(`  ${status} ${c.name.padEnd(19)} ${(c.version ?? '').slice(0, 28).padEnd(28)} ${c.found ? '' : c.install}`);
  }
  const missing = missingComponents(components, 'tests');
  if (missing.length && ci) {
    for (const line of missing) console.error(line);
    return false;
  }
  if (missing.length) console.log(`${missing.length} missing: the tests that need them cannot pass here; with CI set the run stops at this point.`);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit((await preflight()) ? 0 : 1);
