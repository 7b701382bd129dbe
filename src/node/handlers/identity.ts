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
    'identity.unlock': (r) => ids().unlock(r.address, r.passphrase),
    'identity.lock': () => ({ locked: ids().lock() }),
    'identity.current': () => ({ identity: ids().current() }),
  };
}
