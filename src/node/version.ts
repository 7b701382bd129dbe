import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Folder of an installed npm package, or null. Packages whose `exports` hide their package.json (ethers, dcmjs) are
 * found from their entry point, walking up to the package.json that carries their name.
 */
export function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    // fall through: package.json not exported
  }
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) return null;
  }
}

/** Version of an installed npm package, or null when it is not installed. */
export function packageVersion(name: string): string | null {
  const dir = packageDir(name);
  if (!dir) return null;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export function appVersion(): string {
  return packageVersion('medimgshr') ?? readOwnVersion();
}

function readOwnVersion(): string {
  // Inside the repo the package cannot resolve itself by name; walk up from this file.
  for (const rel of ['../../package.json', '../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'medimgshr' && pkg.version) return pkg.version;
    } catch {
      // try the next
    }
  }
  return '0.0.0';
}
