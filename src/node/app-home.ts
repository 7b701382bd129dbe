import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PRODUCT_NAME } from '../shared/product';

/**
 * The one folder that holds everything the app keeps: database, keystores, chain state,
 * blob store, logs. Inside Electron it is `userData`; `MEDIMG_HOME` overrides it for tests
 * and the CLI; without either the CLI uses the same place Electron would on this OS.
 */
export interface AppHome {
  root: string;
  database: string;
  keystores: string;
  chain: string;
  blobs: string;
  logs: string;
  cache: string;
}

export function defaultAppHomeRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEDIMG_HOME) return resolve(env.MEDIMG_HOME);
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, PRODUCT_NAME);
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), PRODUCT_NAME);
}

export function appHome(root: string): AppHome {
  const r = resolve(root);
  return {
    root: r,
    database: join(r, 'medimgshr.sqlite'),
    keystores: join(r, 'keystores'),
    chain: join(r, 'chain'),
    blobs: join(r, 'blobs'),
    logs: join(r, 'logs'),
    cache: join(r, 'cache'),
  };
}

/** Creates the folder layout (idempotent) with owner-only permissions where the OS honours them. */
export function ensureAppHome(home: AppHome): AppHome {
  for (const dir of [home.root, home.keystores, home.chain, home.blobs, home.logs, home.cache]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  return home;
}
