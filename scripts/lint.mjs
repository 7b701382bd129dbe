#!/usr/bin/env node
// `npm run lint`: ESLint (including the layer rule) and Electronegativity. Every Electronegativity
// finding must be justified in docs/security.md (a table row naming its check id and file);
// an unjustified finding fails the lint.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const eslint = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.', '--max-warnings=0'], {
  cwd: root,
  stdio: 'inherit',
});
let failed = eslint.status !== 0;

// Electronegativity's CLI entry is broken with a hoisted commander; its runner is the same code.
const run = require('@doyensec/electronegativity/dist/runner.js');
const justified = new Set();
for (const line of readFileSync(join(root, 'docs/security.md'), 'utf8').split('\n')) {
  const m = line.match(/^\|\s*`?([A-Z0-9_]+)`?\s*\|\s*`?([^|`]+?)`?\s*\|/);
  if (m) justified.add(`${m[1]} ${m[2].trim()}`);
}
const unjustified = [];
let total = 0;
for (const dir of ['electron', 'src/renderer']) {
  const quiet = console.log;
  console.log = () => {};
  let result;
  try {
    result = await run({ input: join(root, dir), isRelative: true, electronVersionOverride: '41.0.0' }, false);
  } finally {
    console.log = quiet;
  }
  for (const issue of result.issues) {
    // Global checks judge the whole app (main-process setup); they are evaluated on electron/.
    if (dir !== 'electron' && issue.id.endsWith('_GLOBAL_CHECK')) continue;
    total++;
    const key = `${issue.id} ${dir}/${issue.file}`;
    if (!justified.has(key)) unjustified.push(`${key}:${issue.location.line} — ${issue.description}`);
  }
}
if (unjustified.length) {
  failed = true;
  console.error(`Electronegativity: ${unjustified.length} finding(s) not justified in docs/security.md:`);
  for (const u of unjustified) console.error(`  ${u}`);
} else {
  console.log(`Electronegativity: ${total} finding(s), each justified in docs/security.md`);
}
process.exit(failed ? 1 : 0);
