import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type IdentityChannel =
  | 'identity.list'
  | 'identity.create'
  | 'identity.import'
  | 'identity.export'
  | 'identity.unlock'
  | 'identity.lock'
  | 'identity.current';

/** Identities: responses carry addresses, names and encrypted keystores only — never a key or passphrase. */
export function identityHandlers(s: Services): Pick<HandlerTable, IdentityChannel> {
  const ids = () => s.identity;
  return {
    'identity.list': () => ({ identities: ids().list(), current: ids().current()?.address ?? null }),
    'identity.create': (r) => ids().create({ displayName: r.displayName, passphrase: r.passphrase, roleHint: r.roleHint ?? null }),
    'identity.import': (r) =>
      ids().import({
        displayName: r.displayName,
        passphrase: r.passphrase,
        privateKey: r.privateKey,
        keystoreJson: r.keystoreJson,
        roleHint: r.roleHint ?? null,
      }),
    'identity.export': (r) => ids().exportKeystore(r.address),
    'identity.unlock': async (r) => {
      // Every sign-in and failed sign-in goes into the audit log (src/node/audit/access.ts).
      const known = ids().list().find((i) => i.address.toLowerCase() === r.address.toLowerCase()) ?? null;
      try {
        const id = await ids().unlock(r.address, r.passphrase);
        s.access.login({ address: id.address, displayName: id.displayName, ok: true });
        return id;
      } catch (err) {
        s.access.login({ address: known?.address ?? r.address, displayName: known?.displayName ?? null, ok: false, error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    },
    'identity.lock': () => {
      const was = ids().current();
      const locked = ids().lock();
      if (locked && was) s.access.logout({ address: was.address, displayName: was.displayName });
      return { locked };
    },
    'identity.current': () => ({ identity: ids().current() }),
  };
}
