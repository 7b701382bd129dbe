/** dcmtk's command-line DIMSE peers (Debian package dcmtk) for tests: storescu and friends. */
import { execFile } from 'node:child_process';
import { which } from '../../src/node/which';

export function findDcmtk(): string | null {
  return which('storescu');
}

/** Like component(): null (caller skips) without dcmtk, but an error under CI. */
export function dcmtk(): string | null {
  const found = findDcmtk();
  if (!found && process.env.CI) throw new Error('dcmtk (storescu) is required when CI is set but was not found; .ci/run must install the Debian package dcmtk');
  return found;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr });
    });
  });
}

/** C-STORE files with storescu. */
export async function storescu(files: string[], to: { host?: string; port: number; calledAet: string; callingAet?: string }): Promise<RunResult> {
  const r = await run('storescu', ['-aet', to.callingAet ?? 'STORESCU', '-aec', to.calledAet, to.host ?? '127.0.0.1', String(to.port), ...files]);
  return r;
}
