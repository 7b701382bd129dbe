import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  Wallet,
  decryptKeystoreJson,
  encryptKeystoreJson,
  getAddress,
  isKeystoreJson,
  type Provider,
} from 'ethers';
import type { IdentitySummary, RoleHint } from '../../shared/api';
import { AppError, ErrorCode } from '../../shared/errors';
import { writeFileAtomic } from '../atomic';
import type { Logger } from '../log';
import type { Db } from '../store/database';
import { SerialWallet } from './serial-wallet';

export interface IdentityOptions {
  /**
   * scrypt cost N for keystores this service encrypts (a power of two). Default: ethers' standard
   * (N = 131072, about a second per unlock). A cheaper N (e.g. 1024) is for tests and the demo
   * identities only: such keystores are much easier to brute-force. The environment variable
   * MEDIMG_KEYSTORE_SCRYPT_N sets it for the CLI and test runs.
   */
  scryptN?: number;
}

export interface IdentityDeps {
  db: Db;
  keystoresDir: string;
  log: Logger;
  /** The ledger provider the unlocked wallet is connected to (null while none is reachable). */
  provider?: () => Provider | null;
}

interface Row {
  address: string;
  display_name: string;
  role_hint: string | null;
  keystore_file: string;
  demo: number;
  created_at: string;
}

/** Reads MEDIMG_KEYSTORE_SCRYPT_N (tests, demo); undefined = ethers' default. */
export function scryptNFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.MEDIMG_KEYSTORE_SCRYPT_N;
  if (!v) return undefined;
  return checkScryptN(Number(v));
}

function checkScryptN(n: number): number {
  if (!Number.isInteger(n) || n < 2 ** 10 || n > 2 ** 20 || (n & (n - 1)) !== 0) {
    throw new Error(`scrypt N must be a power of two between 1024 and 1048576 (got ${n})`);
  }
  return n;
}

/**
 * Local identities: one Web3 Secret Storage keystore file per identity in home.keystores and an
 * index row in SQLite (name, address, role hint, created). At most one identity is unlocked; its
 * Wallet stays in this process. Private keys and passphrases are never returned, logged or
 * emitted; exports are the encrypted keystore only.
 */
export class IdentityService extends EventEmitter<{ change: [IdentitySummary | null] }> {
  private unlocked: Wallet | null = null;
  /** A key lent for one background task (withBackgroundKey), never the session's identity. */
  private background: Wallet | null = null;
  private readonly scryptN: number | undefined;

  constructor(
    private readonly deps: IdentityDeps,
    opts: IdentityOptions = {},
  ) {
    super();
    this.scryptN = opts.scryptN === undefined ? undefined : checkScryptN(opts.scryptN);
  }

  list(): IdentitySummary[] {
    const rows = this.deps.db
      .prepare('SELECT * FROM identities ORDER BY created_at, address')
      .all() as Row[];
    return rows.map((r) => this.summary(r));
  }

  get(address: string): IdentitySummary {
    return this.summary(this.row(address));
  }

  current(): IdentitySummary | null {
    return this.unlocked ? this.get(this.unlocked.address) : null;
  }

  /** Creates a random key, encrypts it with `passphrase`, stores it. */
  async create(input: { displayName: string; passphrase: string; roleHint?: RoleHint | null; demo?: boolean }): Promise<IdentitySummary> {
    checkNewPassphrase(input.passphrase);
    const w = Wallet.createRandom();
    return this.store(w.address, w.privateKey, input.passphrase, input);
  }

  /** Imports a raw private key (encrypted here) or a keystore JSON (kept as is, must unlock with `passphrase`). */
  async import(input: {
    displayName: string;
    passphrase: string;
    privateKey?: string;
    keystoreJson?: string;
    roleHint?: RoleHint | null;
    demo?: boolean;
  }): Promise<IdentitySummary> {
    if ((input.privateKey === undefined) === (input.keystoreJson === undefined)) {
      throw new AppError(ErrorCode.InvalidArgument, 'Give either a private key or a keystore file, not both.');
    }
    if (input.privateKey !== undefined) {
      checkNewPassphrase(input.passphrase);
      const hex = input.privateKey.startsWith('0x') ? input.privateKey : `0x${input.privateKey}`;
      let w: Wallet;
      try {
        w = new SerialWallet(hex);
      } catch {
        throw new AppError(ErrorCode.InvalidArgument, 'That is not a valid private key.', 'A private key is 64 hexadecimal digits, optionally starting with 0x.');
      }
      return this.store(w.address, w.privateKey, input.passphrase, input);
    }
    const json = input.keystoreJson!;
    if (!isKeystoreJson(json)) {
      throw new AppError(ErrorCode.Malformed, 'That file is not an Ethereum keystore (Web3 Secret Storage JSON).', 'Export the keystore again from the wallet it came from.');
    }
    let address: string;
    try {
      address = (await decryptKeystoreJson(json, input.passphrase)).address;
    } catch (err) {
      throw keystoreError(err, 'import');
    }
    this.ensureNew(address);
    const file = keystoreFileName(address);
    await writeFileAtomic(join(this.deps.keystoresDir, file), json);
    return this.index(address, file, input);
  }

  /** The encrypted keystore file of an identity (safe to hand out: it needs the passphrase). */
  exportKeystore(address: string): { address: string; fileName: string; keystoreJson: string } {
    const r = this.row(address);
    const keystoreJson = this.readKeystore(r);
    this.deps.log.info('identity exported', { address: r.address });
    return { address: r.address, fileName: r.keystore_file, keystoreJson };
  }

  /**
   * Decrypts the keystore and makes this identity the current one. A wrong passphrase throws
   * WRONG_PASSPHRASE and changes nothing (the previously unlocked identity stays unlocked).
   */
  async unlock(address: string, passphrase: string): Promise<IdentitySummary> {
    const r = this.row(address);
    const json = this.readKeystore(r);
    let w: Wallet;
    try {
      const account = await decryptKeystoreJson(json, passphrase);
      w = new SerialWallet(account.privateKey);
    } catch (err) {
      this.deps.log.warn('identity unlock failed', { address: r.address, reason: reasonOf(err) });
      throw keystoreError(err, 'unlock');
    }
    if (getAddress(w.address) !== r.address) {
      throw new AppError(ErrorCode.Malformed, 'This keystore holds a different account than its index says.', 'Import the keystore again.');
    }
    this.unlocked = w;
    this.deps.log.info('identity unlocked', { address: r.address });
    const s = this.get(r.address);
    this.emit('change', s);
    return s;
  }

  /**
   * Runs `fn` with `address`'s key available to sign (signerFor, actingIdentity) without making it the
   * session's identity: nobody is logged in or out, no 'change' is emitted, a user who logs in meanwhile
   * keeps their session. The first start anchors the demo study this way.
   */
  async withBackgroundKey<T>(address: string, passphrase: string, fn: () => Promise<T>): Promise<T> {
    const r = this.row(address);
    const account = await decryptKeystoreJson(this.readKeystore(r), passphrase).catch((err: unknown) => {
      throw keystoreError(err, 'unlock');
    });
    const w = new SerialWallet(account.privateKey);
    this.background = w;
    try {
      return await fn();
    } finally {
      if (this.background === w) this.background = null;
    }
  }

  /** The identity that acts now: the session's, else one lent by withBackgroundKey. */
  actingIdentity(): IdentitySummary | null {
    return this.current() ?? (this.background ? this.get(this.background.address) : null);
  }

  /** Forgets the unlocked key. Returns true if one was unlocked. */
  lock(): boolean {
    const was = this.unlocked;
    this.unlocked = null;
    if (was) {
      this.deps.log.info('identity locked', { address: was.address });
      this.emit('change', null);
    }
    return was !== null;
  }

  /** The unlocked identity's Wallet, connected to the ledger provider when one is reachable. */
  signer(): Wallet {
    if (!this.unlocked) {
      throw new AppError(ErrorCode.Locked, 'No identity is unlocked.', 'Choose your identity and enter its passphrase first.');
    }
    const p = this.deps.provider?.() ?? null;
    return p ? this.unlocked.connect(p) : this.unlocked;
  }

  /** The connected Wallet for `address` if it is the unlocked identity, else null (the outbox waits). */
  signerFor(address: string | null): Wallet | null {
    const bg = this.background;
    if (bg && address !== null && getAddress(address) === bg.address && this.unlocked?.address !== bg.address) {
      const p = this.deps.provider?.() ?? null;
      return p ? bg.connect(p) : bg;
    }
    if (!this.unlocked) return null;
    if (address !== null && getAddress(address) !== this.unlocked.address) return null;
    return this.signer();
  }

  // ---- internals ----

  private async store(
    address: string,
    privateKey: string,
    passphrase: string,
    meta: { displayName: string; roleHint?: RoleHint | null; demo?: boolean },
  ): Promise<IdentitySummary> {
    this.ensureNew(address);
    const json = await encryptKeystoreJson(
      { address, privateKey },
      passphrase,
      this.scryptN === undefined ? {} : { scrypt: { N: this.scryptN } },
    );
    const file = keystoreFileName(address);
    await writeFileAtomic(join(this.deps.keystoresDir, file), json);
    return this.index(address, file, meta);
  }

  private index(
    address: string,
    file: string,
    meta: { displayName: string; roleHint?: RoleHint | null; demo?: boolean },
  ): IdentitySummary {
    const a = getAddress(address);
    try {
      this.deps.db
        .prepare('INSERT INTO identities (address, display_name, role_hint, keystore_file, demo, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(a, meta.displayName.trim(), meta.roleHint ?? null, file, meta.demo ? 1 : 0, new Date().toISOString());
    } catch (err) {
      rmSync(join(this.deps.keystoresDir, file), { force: true });
      throw err;
    }
    this.deps.log.info('identity added', { address: a, roleHint: meta.roleHint ?? null, demo: Boolean(meta.demo) });
    return this.get(a);
  }

  private ensureNew(address: string): void {
    const a = getAddress(address);
    if (this.deps.db.prepare('SELECT 1 FROM identities WHERE address = ?').get(a)) {
      throw new AppError(ErrorCode.Conflict, `The identity ${a} is already on this workstation.`, 'Unlock the existing one instead.');
    }
  }

  private row(address: string): Row {
    let a: string;
    try {
      a = getAddress(address);
    } catch {
      throw new AppError(ErrorCode.InvalidArgument, `"${address}" is not an Ethereum address.`);
    }
    const r = this.deps.db.prepare('SELECT * FROM identities WHERE address = ?').get(a) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `No identity ${a} on this workstation.`, 'Create or import it first.');
    return r;
  }

  private readKeystore(r: Row): string {
    const path = join(this.deps.keystoresDir, r.keystore_file);
    if (!existsSync(path)) {
      throw new AppError(ErrorCode.NotFound, `The keystore file of ${r.address} is missing from the app-data folder.`, 'Import the identity again from a keystore backup.');
    }
    return readFileSync(path, 'utf8');
  }

  private summary(r: Row): IdentitySummary {
    return {
      address: r.address,
      displayName: r.display_name,
      roleHint: (r.role_hint as RoleHint | null) ?? null,
      createdAt: r.created_at,
      demo: r.demo === 1,
      unlocked: this.unlocked !== null && this.unlocked.address === r.address,
    };
  }
}

function keystoreFileName(address: string): string {
  return `${getAddress(address)}.json`;
}

function checkNewPassphrase(p: string): void {
  if (p.length < 8) {
    throw new AppError(ErrorCode.InvalidArgument, 'The passphrase must have at least 8 characters.', 'Choose a longer passphrase; a short sentence works well.');
  }
}

function reasonOf(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return /incorrect password/i.test(m) ? 'wrong passphrase' : 'unreadable keystore';
}

/** Maps ethers' keystore errors to user errors without echoing any secret. */
function keystoreError(err: unknown, what: 'unlock' | 'import'): AppError {
  if (reasonOf(err) === 'wrong passphrase') {
    return new AppError(
      ErrorCode.WrongPassphrase,
      'That passphrase does not unlock this identity.',
      what === 'unlock'
        ? 'Check the passphrase (it is case-sensitive) and try again; nothing was locked or changed.'
        : 'Enter the passphrase the keystore was saved with.',
    );
  }
  return new AppError(ErrorCode.Malformed, 'The keystore file could not be read.', 'Import the identity again from a keystore backup.');
}
