#!/usr/bin/env node
// `npm test`: build, typecheck, lint, unit, integration, e2e (Chromium), Electron smoke.
// Prints a count per stage and a closing "N passed, N failed, N skipped" line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preflight } from './preflight.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const only = process.argv.slice(2); // e.g. `npm test -- unit e2e`
const want = (stage) => only.length === 0 || only.includes(stage);

const bin = (pkg, rel) => join(root, 'node_modules', pkg, rel);
const summary = [];
let failedStages = 0;

function step(name, args) {
  const t0 = Date.now();
  console.log(`\n━━ ${name} ━━`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  const ok = r.status === 0;
  if (!ok) failedStages++;
  return { ok, seconds: (Date.now() - t0) / 1000 };
}

function vitestCounts(file) {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + (j.numTodoTests ?? 0) };
}
function playwrightCounts(file) {
  const s = JSON.parse(readFileSync(file, 'utf8')).stats;
  return { passed: s.expected + (s.flaky ?? 0), failed: s.unexpected, skipped: s.skipped };
}
function record(stage, run, counts) {
  summary.push({ stage, ok: run.ok, seconds: run.seconds, ...(counts ?? { passed: 0, failed: run.ok ? 0 : 1, skipped: 0 }) });
}

// Preflight: what the tests need from outside npm, listed before anything runs (under CI a missing one stops here).
{
  console.log('\n━━ preflight ━━');
  const t0 = Date.now();
  const ok = await preflight();
  if (!ok) failedStages++;
  record('preflight', { ok, seconds: (Date.now() - t0) / 1000 });
  if (!ok) {
    console.error('preflight failed: install the packages named above (.ci/run does), then run npm test again.');
    console.log('\ntests: 0 passed, 1 failed, 0 skipped');
    process.exit(1);
  }
}
if (want('build')) record('build', step('build', [join(root, 'scripts/build.mjs')]));
if (want('typecheck')) record('typecheck', step('typecheck', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json', '--noEmit']));
if (want('lint')) record('lint', step('lint', [join(root, 'scripts/lint.mjs')]));
for (const project of ['unit', 'integration']) {
  if (!want(project)) continue;
  const out = join(results, `${project}-results.json`);
  const run = step(`${project} tests`, [bin('vitest', 'vitest.mjs'), 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  record(project, run, existsSync(out) ? vitestCounts(out) : undefined);
}
if (want('e2e')) {
  const out = join(results, 'e2e-results.json');
  const run = step('e2e tests (Chromium)', [bin('@playwright/test', 'cli.js'), 'test', '-c', 'test/e2e/playwright.config.ts']);
  record('e2e', run, existsSync(out) ? playwrightCounts(out) : undefined);
}
if (want('electron')) {
  const out = join(results, 'electron-results.json');
  const run = step('Electron smoke test', [bin('@playwright/test', 'cli.js'), 'test', '-c', 'test/electron/playwright.config.ts']);
  const counts = existsSync(out) ? playwrightCounts(out) : undefined;
  if (counts && counts.skipped > 0 && counts.passed === 0) console.log('skipped: no Electron binary (the Electron smoke test runs where one is installed)');
  record('electron', run, counts);
}

console.log('\n━━ summary ━━');
for (const s of summary) {
  const counts = ['preflight', 'build', 'typecheck', 'lint'].includes(s.stage) ? '' : `  ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
  console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.stage.padEnd(11)} ${s.seconds.toFixed(1).padStart(6)} s${counts}`);
}
const total = summary.reduce((a, s) => ({ passed: a.passed + s.passed, failed: a.failed + s.failed, skipped: a.skipped + s.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log(`\ntests: ${total.passed} passed, ${total.failed + (failedStages && total.failed === 0 ? failedStages : 0)} failed, ${total.skipped} skipped`);
process.exit(failedStages ? 1 : 0);
