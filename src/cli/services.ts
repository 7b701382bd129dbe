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
