/**
 * The services a CLI command opens. A command never starts the Storage SCP on its own (the app or
 * `medimgshr scp run` listens on its port); everything else is as the command asks.
 */
import { Services, type ServicesOptions } from '../node/services';

export function openServices(o: ServicesOptions): Promise<Services> {
  return Services.open({ storageScp: false, ...o });
}

/** Opens the services without a ledger, runs `fn`, and closes them whatever happens. */
export async function withServices<T>(home: string, fn: (s: Services) => Promise<T>): Promise<T> {
  const s = await openServices({ home, ledger: { mode: 'none' } });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/**
 * Unlocks an identity for a CLI command and records the sign-in (or the failed one) in the audit
 * log, as the app's login screen does (src/node/handlers/identity.ts), marked `via: "cli"`.
 */
export async function cliSignIn(s: Services, address: string, passphrase: string): Promise<void> {
  const known = s.identity.list().find((i) => i.address.toLowerCase() === address.toLowerCase()) ?? null;
  try {
    const id = await s.identity.unlock(address, passphrase);
    s.access.login({ address: id.address, displayName: id.displayName, ok: true, via: 'cli' });
  } catch (err) {
    s.access.login({ address: known?.address ?? address, displayName: known?.displayName ?? null, ok: false, error: err instanceof Error ? err.message : String(err), via: 'cli' });
    throw err;
  }
}
