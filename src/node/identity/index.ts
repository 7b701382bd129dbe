import { ledgerProvider } from '../chain/ledger-provider';
import type { Services } from '../services';
import { IdentityService, scryptNFromEnv, type IdentityOptions } from './identities';

export { IdentityService, scryptNFromEnv, type IdentityOptions } from './identities';

/**
 * The Services-wide identity service (one per app). The first caller's options win; without
 * options the scrypt cost comes from MEDIMG_KEYSTORE_SCRYPT_N or ethers' default.
 */
export function identityService(s: Services, opts?: IdentityOptions): IdentityService {
  return s.domain(
    'identity',
    () =>
      new IdentityService(
        { db: s.db, keystoresDir: s.home.keystores, log: s.log, provider: () => ledgerProvider(s).current() },
        opts ?? { scryptN: scryptNFromEnv() },
      ),
    (svc) => {
      svc.lock();
    },
  );
}
