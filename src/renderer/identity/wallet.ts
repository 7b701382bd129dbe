/**
 * An injected EIP-1193 provider (a browser wallet), found with @metamask/detect-provider. It signs
 * in the wallet; the app never sees its key. Used to send a transaction to the app's contract
 * (eth_sendTransaction, mined by the ledger the wallet is connected to), and to sign the patient's
 * EIP-712 consent or revocation (eth_signTypedData_v4), which the main process checks and submits.
 */
import detectEthereumProvider from '@metamask/detect-provider';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { WalletConsentRequest, WalletConsentResult } from '../../shared/api';
import { call } from '../bridge';

export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
  isMetaMask?: boolean;
}

let found: Promise<Eip1193 | null> | null = null;
export function detectWallet(): Promise<Eip1193 | null> {
  found ??= detectEthereumProvider<Eip1193>({ silent: true, timeout: 800, mustBeMetaMask: false }).catch(() => null);
  return found;
}

/** 4-byte function selector, e.g. selector('registerPatient()'). */
export function selector(signature: string): string {
  return '0x' + bytesToHex(keccak_256(utf8ToBytes(signature))).slice(0, 8);
}

export async function connectWallet(p: Eip1193): Promise<{ account: string; chainId: number }> {
  const accounts = (await p.request({ method: 'eth_requestAccounts' })) as string[];
  if (!accounts?.length) throw new Error('The wallet gave no account.');
  const chainHex = (await p.request({ method: 'eth_chainId' })) as string;
  return { account: accounts[0]!, chainId: Number.parseInt(chainHex, 16) };
}

/** Sends a transaction through the wallet and waits until it is mined (polls the receipt). */
export async function sendAndWait(p: Eip1193, tx: { from: string; to: string; data: string }, timeoutMs = 60_000): Promise<{ hash: string; block: number; ok: boolean }> {
  const hash = (await p.request({ method: 'eth_sendTransaction', params: [tx] })) as string;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = (await p.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as { blockNumber: string; status: string } | null;
    if (r) return { hash, block: Number.parseInt(r.blockNumber, 16), ok: r.status === '0x1' };
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`Transaction ${hash} was not mined within ${timeoutMs / 1000} s.`);
}

/**
 * The patient signs a consent or revocation in the wallet: the main process builds the typed data
 * from the chain, the wallet signs it (eth_signTypedData_v4, the key stays in the wallet), and the
 * main process submits it only if the signature recovers the patient's account.
 */
export async function signConsentInWallet(p: Eip1193, r: WalletConsentRequest): Promise<WalletConsentResult> {
  const { account } = await connectWallet(p);
  const t = await call('share.walletConsentTypedData', r);
  const signature = (await p.request({ method: 'eth_signTypedData_v4', params: [account, JSON.stringify(t.typedData)] })) as string;
  const m = t.typedData.message;
  return call('share.submitWalletConsent', { ...r, patient: r.patient ?? t.patient, study: r.study ?? (r.kind === 'revocation' ? t.study : undefined), expiry: m.expiry, nonce: m.nonce!, deadline: m.deadline!, signature });
}
