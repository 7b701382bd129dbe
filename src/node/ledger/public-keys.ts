/**
 * Recipients' public keys (docs/trust-and-sharing.md "Public keys"). The contract holds no public
 * keys, and an Ethereum address is only a hash of one, so a sender learns a recipient institution's
 * secp256k1 public key from a SIGNATURE made with that institution's key — never from an unsigned
 * claim:
 *
 *   1. a local identity (the key is on this workstation);
 *   2. a key card the institution gave out: an EIP-191 signature over
 *      "MedImgShr key card\naddress: <addr>\ncreated: <iso>"; the public key is RECOVERED from the
 *      signature and must hash to the card's address (a card for another address is refused);
 *   3. any transaction the institution sent on the chain (found through the synced events in which it
 *      is the sender): the public key is recovered from the transaction's signature.
 *
 * Learned keys are kept in ledger_settings under `pubkey:<address>` (and cards under `keycard:<address>`).
 */
import { computeAddress, getAddress, hashMessage, SigningKey, Transaction, type Wallet } from 'ethers';
import type { IdentityService } from '../identity';
import type { Db } from '../store/database';
import type { ChainConnection } from './client';
import { LedgerSettings } from './settings';
import type { KeyCard } from '../../shared/api/share';
import { AppError, ErrorCode } from '../../shared/errors';

export const KEY_CARD_FORMAT = 'medimgshr-key-card/1';

export function keyCardMessage(address: string, created: string): string {
  return `MedImgShr key card\naddress: ${getAddress(address)}\ncreated: ${created}`;
}

/** The unlocked institution's key card (its public key is recoverable from the signature). */
export async function makeKeyCard(wallet: Wallet, label: string | null): Promise<KeyCard> {
  const created = new Date().toISOString();
  const signature = await wallet.signMessage(keyCardMessage(wallet.address, created));
  return { format: KEY_CARD_FORMAT, address: wallet.address, publicKey: wallet.signingKey.publicKey, label, created, signature };
}

/** Recovers and checks a card's public key; throws TAMPERED when the signature is not by the card's address. */
export function verifyKeyCard(card: KeyCard): string {
  let recovered: string;
  try {
    recovered = SigningKey.recoverPublicKey(hashMessage(keyCardMessage(card.address, card.created)), card.signature);
  } catch {
    throw new AppError(ErrorCode.Tampered, 'The key card’s signature cannot be read.', 'Ask the institution for a new key card.');
  }
  if (computeAddress(recovered) !== getAddress(card.address)) {
    throw new AppError(ErrorCode.Tampered, `The key card was not signed by ${card.address}: it cannot be trusted.`, 'Ask the institution for a new key card.');
  }
  if (recovered.toLowerCase() !== card.publicKey.toLowerCase()) {
    throw new AppError(ErrorCode.Tampered, 'The public key written on the key card is not the key that signed it.', 'Ask the institution for a new key card.');
  }
  return recovered;
}

/** Where learned keys are kept, and the local identities (whose keys are here already). */
export interface KeyDeps {
  db: Db;
  identity: IdentityService;
}

function settings(s: KeyDeps): LedgerSettings {
  return new LedgerSettings(s.db);
}

export function storePublicKey(s: KeyDeps, address: string, publicKey: string, source: string): void {
  const pk = SigningKey.computePublicKey(publicKey, false);
  if (computeAddress(pk) !== getAddress(address)) throw new AppError(ErrorCode.Tampered, `That public key does not belong to ${address}.`);
  settings(s).set(`pubkey:${getAddress(address)}`, JSON.stringify({ publicKey: pk, source, at: new Date().toISOString() }));
}

export function importKeyCard(s: KeyDeps, card: KeyCard): { address: string; publicKey: string } {
  const pk = verifyKeyCard(card);
  storePublicKey(s, card.address, pk, 'key-card');
  settings(s).set(`keycard:${getAddress(card.address)}`, JSON.stringify(card));
  return { address: getAddress(card.address), publicKey: pk };
}

/** The public key this workstation already knows for an address (uncompressed 0x04…), or null. */
export function knownPublicKey(s: KeyDeps, address: string): string | null {
  const a = getAddress(address);
  const ids = s.identity;
  const cur = ids.current();
  if (cur && cur.address === a) {
    try {
      return ids.signer().signingKey.publicKey;
    } catch {
      /* locked in between */
    }
  }
  const v = settings(s).get(`pubkey:${a}`);
  if (v) {
    try {
      return (JSON.parse(v) as { publicKey: string }).publicKey;
    } catch {
      return null;
    }
  }
  return null;
}

/** Looks for a transaction the address sent (through the synced events) and recovers its public key. */
export async function recoverFromChain(s: KeyDeps, conn: ChainConnection, address: string): Promise<string | null> {
  const a = getAddress(address);
  const hashes = s.db
    .prepare(
      `SELECT tx_hash FROM chain_accesses WHERE chain_id = ? AND accessor = ?
       UNION SELECT tx_hash FROM chain_roles WHERE chain_id = ? AND by = ?
       UNION SELECT tx_hash FROM chain_records WHERE chain_id = ? AND clinician = ?
       UNION SELECT tx_hash FROM chain_reports WHERE chain_id = ? AND (recipient = ? OR reporter = ?)
       LIMIT 20`,
    )
    .all(conn.chainId, a, conn.chainId, a, conn.chainId, a, conn.chainId, a, a) as { tx_hash: string }[];
  for (const { tx_hash } of hashes) {
    const tx = await conn.provider.getTransaction(tx_hash).catch(() => null);
    if (!tx || getAddress(tx.from) !== a) continue;
    try {
      const pk = Transaction.from(tx).fromPublicKey;
      if (pk && computeAddress(pk) === a) {
        storePublicKey(s, a, pk, `transaction ${tx_hash}`);
        return SigningKey.computePublicKey(pk, false);
      }
    } catch {
      /* try the next one */
    }
  }
  return null;
}

/** The recipient's public key: known here, else recovered from its transactions on chain; null when neither. */
export async function resolvePublicKey(s: KeyDeps, conn: ChainConnection | null, address: string): Promise<string | null> {
  return knownPublicKey(s, address) ?? (conn ? await recoverFromChain(s, conn, address) : null);
}
