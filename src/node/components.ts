import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anvilVersion, findAnvilBinary } from './chain/anvil';
import { packageDir } from './version';
import { which } from './which';

/** An external program the app or its tests use, and whether this machine has it. */
export interface Component {
  name: string;
  found: boolean;
  path: string | null;
  version: string | null;
  purpose: string;
  /** What to do when it is missing. */
  install: string;
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) return null;
  const line = `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  return line ? line.trim() : null;
}

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const p of [env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p;
  }
  return which('chromium');
}

export function findOrthanc(): string | null {
  return which('Orthanc') ?? (existsSync('/usr/sbin/Orthanc') ? '/usr/sbin/Orthanc' : null);
}

/** The Electron binary, when the npm package managed to download one. */
export function findElectronBinary(): string | null {
  // The electron npm package records its downloaded binary in path.txt; with
  // ELECTRON_SKIP_BINARY_DOWNLOAD there is no such file. (Located, not imported: only electron/ imports Electron.)
  const dir = packageDir('electron');
  if (!dir) return null;
  try {
    const rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    const bin = join(dir, 'dist', rel);
    return rel && existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

export function detectComponents(): Component[] {
  const anvil = findAnvilBinary();
  const chromium = findChromium();
  const orthanc = findOrthanc();
  const electron = findElectronBinary();
  const dcmconv = which('dcmconv');
  return [
    {
      name: 'anvil',
      found: anvil !== null,
      path: anvil,
      version: anvil ? anvilVersion(anvil) : null,
      purpose: 'embedded local ledger (Ethereum node)',
      install: 'npm ci installs it (package @foundry-rs/anvil)',
    },
    {
      name: 'electron',
      found: electron !== null,
      path: electron,
      version: electron ? firstLine(electron, ['--version']) : null,
      purpose: 'desktop window for the app',
      install: 'on a machine with internet: npm install (without ELECTRON_SKIP_BINARY_DOWNLOAD)',
    },
    {
      name: 'chromium',
      found: chromium !== null,
      path: chromium,
      version: chromium ? firstLine(chromium, ['--version']) : null,
      purpose: 'browser for the end-to-end tests',
      install: 'apt-get install chromium',
    },
    {
      name: 'orthanc',
      found: orthanc !== null,
      path: orthanc,
      version: orthanc ? firstLine(orthanc, ['--version']) : null,
      purpose: 'PACS (DICOMweb) for integration tests and sharing',
      install: 'apt-get install orthanc orthanc-dicomweb',
    },
    {
      name: 'dcmtk',
      found: dcmconv !== null,
      path: dcmconv,
      version: dcmconv ? firstLine(dcmconv, ['--version']) : null,
      purpose: 're-encoding DICOM in the fingerprint tests',
      install: 'apt-get install dcmtk',
    },
  ];
}
