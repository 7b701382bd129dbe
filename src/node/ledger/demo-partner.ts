/**
 * DEMO ONLY (embedded chain): a second institution, "DEMO Partner Hospital", to share with. Like the
 * ledger's demo identities it is a local keystore with the published demo passphrase and a cheap
 * scrypt cost, marked demo; the demo regulator registers it on the chain, anvil funds it, and its
 * public key is stored so the share gate can encrypt to it. Idempotent.
 */
import { decryptKeystoreJson, encryptKeystoreJson, Wallet } from 'ethers';
import { confirmed } from './contracts';
import { DEMO_PASSPHRASE } from './demo';
import type { LedgerService } from './index';
import { AppError, ErrorCode } from '../../shared/errors';
import { storePublicKey } from './public-keys';

export const DEMO_PARTNER_NAME = 'DEMO Partner Hospital (institution)';
const SCRYPT_N = 1024;

export interface DemoPartner {
  address: string;
  displayName: string;
  registered: boolean;
  passphrase: string;
}

export async function ensureDemoPartner(l: LedgerService): Promise<DemoPartner> {
  if (!l.connection.embeddedNode) {
    throw new AppError(ErrorCode.Unavailable, 'The demo partner can only be set up on the embedded ledger.', 'Start the app with the embedded ledger (the default).');
  }
  const conn = await l.chain.require();
  const regulatorAddr = l.demo.addresses().regulator;
  if (!regulatorAddr) throw new AppError(ErrorCode.Unavailable, 'Set up the demo first (it creates the demo regulator).', 'Run the demo setup, then add the partner.');
  const ids = l.identity;
  let address = l.settings.get('demo:partner');
  let wallet: Wallet;
  if (address && ids.list().some((i) => i.address === address)) {
    wallet = new Wallet((await decryptKeystoreJson(ids.exportKeystore(address).keystoreJson, DEMO_PASSPHRASE)).privateKey);
  } else {
    const w = Wallet.createRandom();
    const json = await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, DEMO_PASSPHRASE, { scrypt: { N: SCRYPT_N } });
    await ids.import({ displayName: DEMO_PARTNER_NAME, passphrase: DEMO_PASSPHRASE, keystoreJson: json, roleHint: 'institution', demo: true });
    wallet = new Wallet(w.privateKey);
    address = w.address;
    l.settings.set('demo:partner', address);
  }
  storePublicKey({ db: l.ctx.db, identity: ids }, wallet.address, wallet.signingKey.publicKey, 'demo partner (local keystore)');
  const p = conn.provider;
  await p.send('anvil_setBalance', [wallet.address, '0x56BC75E2D63100000']);
  const c = conn.contract;
  let registered = await c.hasRole(await c.INSTITUTION_ROLE(), wallet.address);
  if (!registered) {
    const regJson = ids.exportKeystore(regulatorAddr).keystoreJson;
    const regulator = new Wallet((await decryptKeystoreJson(regJson, DEMO_PASSPHRASE)).privateKey, p);
    await confirmed(c.connect(regulator).registerInstitution(wallet.address));
    registered = true;
    await l.sync.sync();
  }
  return { address: wallet.address, displayName: DEMO_PARTNER_NAME, registered, passphrase: DEMO_PASSPHRASE };
}
