import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anvilVersion, findAnvilBinary } from './ledger/anvil';
import { packageDir, packageVersion } from './version';
import { which } from './which';

/** Who needs an external component: the app itself when it runs, or only the test suite. */
export type NeededBy = 'app' | 'tests';

/** An external program, module or data set the app or its tests use, and whether this machine has it. */
export interface Component {
  name: string;
  found: boolean;
  path: string | null;
  version: string | null;
  purpose: string;
  /** What to do when it is missing (the package that installs it). */
  install: string;
  /** The app can run without it (a missing optional component is reported, never a failure). */
  optional: boolean;
  neededBy: NeededBy[];
}

/** Debian's own python3 (a pyenv shim earlier on PATH has no Debian modules). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
/** pydicom's test files, the real DICOM files nobody here wrote (Debian package python3-pydicom). */
export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
/** Orthanc's DICOMweb plugin as Debian installs it. */
const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
/** dcmtk programs the tests run as real peers or re-encoders, with what each is for. */
const DCMTK_TOOLS: [string, string][] = [
  ['dcmconv', 're-encoding DICOM (transfer syntaxes) in the fingerprint tests'],
  ['dcmodify', 'editing elements of real files in the tamper tests'],
  ['dcmdump', 'reading back what the app wrote'],
  ['dcmcjpeg', 'JPEG re-encoding in the fingerprint tests'],
  ['dcmcjpls', 'JPEG-LS re-encoding in the fingerprint tests'],
  ['dcmcrle', 'RLE re-encoding in the fingerprint tests'],
  ['dcmdrle', 'RLE decoding in the fingerprint tests'],
  ['storescu', 'DIMSE C-STORE peer (sends studies into a PACS)'],
];
/** dicom3tools' IOD validator: every kind of file the app writes is checked with it. */
const DICOM3TOOLS: [string, string][] = [['dciodvfy', 'IOD validation of every kind of file the app writes']];

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

/** Debian's rsyslogd: the real syslog collector the ATNA tests send to. */
export function findRsyslogd(): string | null {
  return which('rsyslogd') ?? (existsSync('/usr/sbin/rsyslogd') ? '/usr/sbin/rsyslogd' : null);
}
/** rsyslog's OpenSSL network stream driver (package rsyslog-openssl): the TLS syslog listener. */
export const RSYSLOG_OSSL_DRIVER = '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so';

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

/** The version of a Python module under Debian's python3, or null when it cannot be imported. */
function pythonModuleVersion(module: string): string | null {
  if (!existsSync(DEBIAN_PYTHON)) return null;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', `import ${module}; print(${module}.__version__)`], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() || 'found' : null;
}

function component(c: Omit<Component, 'found' | 'optional' | 'neededBy'> & Partial<Pick<Component, 'optional' | 'neededBy'>>): Component {
  return { ...c, found: c.path !== null, optional: c.optional ?? false, neededBy: c.neededBy ?? ['tests'] };
}

/**
 * Every external component, in one list: what `medimgshr doctor` reports and what `npm test` checks before it starts
 * (under CI a missing required one fails the run, one line each, naming the package that installs it).
 */
export function detectComponents(): Component[] {
  const anvil = findAnvilBinary();
  const chromium = findChromium();
  const orthanc = findOrthanc();
  const electron = findElectronBinary();
  const solc = packageDir('solc');
  const python = existsSync(DEBIAN_PYTHON) ? DEBIAN_PYTHON : null;
  const pydicom = pythonModuleVersion('pydicom');
  const numpy = pythonModuleVersion('numpy');
  const dcmtk = DCMTK_TOOLS.map(([tool, purpose]) => {
    const path = which(tool);
    return component({ name: tool, path, version: path ? dcmtkVersion(path) : null, purpose, install: 'apt-get install dcmtk' });
  });
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? null;
  const rsyslogd = findRsyslogd();
  const dicom3tools = DICOM3TOOLS.map(([tool, purpose]) => component({ name: tool, path: which(tool), version: null, purpose, install: 'apt-get install dicom3tools' }));
  return [
    component({
      name: 'anvil',
      path: anvil,
      version: anvil ? anvilVersion(anvil) : null,
      purpose: 'embedded local ledger (Ethereum node)',
      install: 'npm ci installs it (package @foundry-rs/anvil-linux-amd64)',
      neededBy: ['app', 'tests'],
    }),
    component({
      name: 'solc',
      path: solc,
      version: solc ? packageVersion('solc') : null,
      purpose: 'compiles the contracts at build time',
      install: 'npm ci installs it (package solc)',
      neededBy: ['tests'],
    }),
    component({
      name: 'electron',
      path: electron,
      version: electron ? firstLine(electron, ['--version']) : null,
      purpose: 'desktop window for the app (its smoke test runs where one exists)',
      install: 'npm install online, without ELECTRON_SKIP_BINARY_DOWNLOAD',
      optional: true,
      neededBy: ['app'],
    }),
    component({
      name: 'chromium',
      path: chromium,
      version: chromium ? (firstLine(chromium, ['--version'])?.split(' ').slice(0, 2).join(' ') ?? null) : null,
      purpose: 'browser for the end-to-end tests',
      install: 'apt-get install chromium',
    }),
    component({
      name: 'orthanc',
      path: orthanc,
      version: orthanc ? firstLine(orthanc, ['--version']) : null,
      purpose: 'PACS for the integration tests',
      install: 'apt-get install orthanc',
    }),
    component({
      name: 'orthanc-dicomweb',
      path: existsSync(ORTHANC_DICOMWEB_PLUGIN) ? ORTHANC_DICOMWEB_PLUGIN : null,
      version: null,
      purpose: "Orthanc's DICOMweb plugin (QIDO-RS, WADO-RS, STOW-RS)",
      install: 'apt-get install orthanc-dicomweb',
    }),
    ...dcmtk,
    ...dicom3tools,
    component({
      name: 'nginx',
      path: nginx,
      version: nginx ? firstLine(nginx, ['-v'])?.replace(/^nginx version: /, '') ?? null : null,
      purpose: 'WebDAV server for the split-storage pixel store tests',
      install: 'apt-get install nginx-light',
    }),
    component({
      name: 'rsyslog',
      path: rsyslogd,
      version: rsyslogd ? (firstLine(rsyslogd, ['-v'])?.replace(/^rsyslogd\s+/, '').split(' ')[0]?.replace(/,$/, '') ?? null) : null,
      purpose: 'syslog collector (UDP and TLS) the ATNA audit tests send to',
      install: 'apt-get install rsyslog',
    }),
    component({
      name: 'rsyslog-openssl',
      path: existsSync(RSYSLOG_OSSL_DRIVER) ? RSYSLOG_OSSL_DRIVER : null,
      version: null,
      purpose: "rsyslog's TLS listener (RFC 5425) for the ATNA audit tests",
      install: 'apt-get install rsyslog-openssl',
    }),
    component({
      name: 'openssl',
      path: which('openssl'),
      version: null,
      purpose: 'makes the throwaway CA and certificates of the TLS tests (syslog, PACS CA file, split keys)',
      install: 'apt-get install openssl',
    }),
    component({
      name: 'python3',
      path: python,
      version: python ? firstLine(python, ['--version']) : null,
      purpose: "Debian's python3, which runs pydicom as the tests' independent peer",
      install: 'apt-get install python3',
    }),
    component({
      name: 'pydicom',
      path: pydicom ? 'python3 -c "import pydicom"' : null,
      version: pydicom,
      purpose: 'independent DICOM reader the tests compare against',
      install: 'apt-get install python3-pydicom',
    }),
    component({
      name: 'numpy',
      path: numpy ? 'python3 -c "import numpy"' : null,
      version: numpy,
      purpose: "pydicom's pixel decoding (pixel_array)",
      install: 'apt-get install python3-numpy',
    }),
    component({
      name: 'pydicom test files',
      path: existsSync(PYDICOM_TEST_FILES) ? PYDICOM_TEST_FILES : null,
      version: null,
      purpose: 'real DICOM files in every transfer syntax',
      install: 'apt-get install python3-pydicom',
    }),
  ];
}

function dcmtkVersion(path: string): string | null {
  // dcmtk prints a banner line such as "$dcmtk: dcmconv v3.6.7 2022-04-22 $": keep the version only.
  const line = firstLine(path, ['--version']);
  const m = line ? /v(\d+\.\d+\.\d+)/.exec(line) : null;
  return m ? m[1]! : line;
}

/** The required components that are missing, one line each: what it is for and what installs it. */
export function missingComponents(components: Component[], who: NeededBy): string[] {
  return components
    .filter((c) => !c.found && !c.optional && c.neededBy.includes(who))
    .map((c) => `missing: ${c.name} (${c.purpose}) — ${c.install}`);
}
