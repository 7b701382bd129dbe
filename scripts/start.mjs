#!/usr/bin/env node
// `npm start`: build, then launch the desktop app on its embedded defaults (local chain, app-data
// folder in the usual place). Where no Electron binary exists, say how to get one, in one line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function electronBinary() {
  const dir = join(root, 'node_modules', 'electron');
  try {
    const rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    const bin = join(dir, 'dist', rel);
    return rel && existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const bin = process.env.ELECTRON_OVERRIDE_DIST_PATH ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron') : electronBinary();
if (!bin || !existsSync(bin)) {
  console.error(
    'MedImgShr needs the Electron binary, which is not installed here: on a machine with internet run "npm install" without ELECTRON_SKIP_BINARY_DOWNLOAD (or set ELECTRON_OVERRIDE_DIST_PATH to an Electron folder), then "npm start". Headless use works now: "npx medimgshr --help".',
  );
  process.exit(1);
}
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const child = spawn(bin, [join(root, 'dist/electron/main.cjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
