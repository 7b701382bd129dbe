/**
 * Two workstations' app-data folders on one chain, driven through the built CLI: the runner and the
 * opener the CLI round-trip tests (share, share by metadata) share.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Services } from '../../src/node/services';

const root = join(__dirname, '..', '..');

/** Runs `medimgshr --home <home> --json …args` (`json: false`: the text output); `out` is its parsed JSON, null when it printed none. */
export function runCli(home: string, args: string[], env: NodeJS.ProcessEnv, opts: { json?: boolean } = {}): Promise<{ code: number; out: unknown; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'medimgshr.cjs'), '--home', home, ...(opts.json === false ? [] : ['--json']), ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      let out: unknown = null;
      try {
        out = JSON.parse(stdout);
      } catch {
        out = null;
      }
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, stdout, stderr });
    });
  });
}

/** Opens an app-data folder on the test chain (remote ledger, no background sync), ledger checked. */
export async function openRemoteHome(home: string, chain: { node: { rpcUrl: string }; address: string }): Promise<Services> {
  const s = await Services.open({ home, ledger: { mode: 'remote', rpcUrl: chain.node.rpcUrl }, ledgerPollMs: 200, ledgerService: { contractAddress: chain.address, sync: { auto: false } } });
  void s.ledgerService;
  await s.ledger.check();
  return s;
}
