/**
 * Secrets (PACS passwords, bearer tokens) encrypted at rest. The app implements `SecretBox` with
 * Electron's safeStorage (OS keychain / DPAPI / libsecret) in electron/; the CLI and the tests use
 * `KeyFileSecretBox`: AES-256-GCM under a random 256-bit key kept in `<app data>/keys/pacs-secret.key`
 * (mode 0600). See docs/pacs.md for what each protects against.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PacsError, PacsReason } from './errors';

export interface SecretBox {
  /** A name for docs and the log ("key file", "safeStorage"). */
  readonly kind: string;
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

const VERSION = 1;

/** AES-256-GCM with a key file: [version 1 byte][iv 12][tag 16][ciphertext]. */
export class KeyFileSecretBox implements SecretBox {
  readonly kind = 'key file';
  private key: Buffer | null = null;
  constructor(private readonly keyPath: string) {}

  private loadKey(): Buffer {
    if (this.key) return this.key;
    if (!existsSync(this.keyPath)) {
      mkdirSync(dirname(this.keyPath), { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a key another process just created (its secrets would be lost)
      try {
        writeFileSync(this.keyPath, randomBytes(32), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    try {
      chmodSync(this.keyPath, 0o600);
    } catch {
      // not every file system keeps modes
    }
    const key = readFileSync(this.keyPath);
    if (key.length !== 32) throw new PacsError(PacsReason.Invalid, `The PACS secret key file ${this.keyPath} is damaged.`, 'Remove it and enter the PACS passwords again.');
    this.key = key;
    return key;
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.loadKey(), iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), ct]);
  }

  decrypt(sealed: Buffer): string {
    if (sealed.length < 29 || sealed[0] !== VERSION) throw this.unreadable();
    try {
      const d = createDecipheriv('aes-256-gcm', this.loadKey(), sealed.subarray(1, 13));
      d.setAuthTag(sealed.subarray(13, 29));
      return Buffer.concat([d.update(sealed.subarray(29)), d.final()]).toString('utf8');
    } catch {
      throw this.unreadable();
    }
  }

  private unreadable(): PacsError {
    return new PacsError(
      PacsReason.Invalid,
      'A stored PACS password or token cannot be decrypted (the key file was replaced, or the database was copied from another workstation).',
      'Enter the password or token of this connection again.',
    );
  }
}
