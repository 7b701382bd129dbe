/**
 * Builds the Node bundles (CLI + workers in dist/) once, before any integration test file runs.
 * Test files used to rebuild them in their own beforeAll; with two files at a time, one file's esbuild
 * rewrote dist/cli/main.cjs while the other was starting the CLI from it ("require(...).main is not a
 * function", or a CLI that printed nothing). Nothing in a test file builds any more.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--node'], { cwd: root, stdio: 'inherit' });
}
