import { spawnSync } from 'node:child_process';

/** The first path of `cmd` on PATH, or null. */
export function which(cmd: string): string | null {
  const r = spawnSync(process.platform === 'win32' ? 'where' : 'which', [cmd], { encoding: 'utf8' });
  const first = r.status === 0 ? r.stdout.split('\n')[0]?.trim() : '';
  return first ? first : null;
}
