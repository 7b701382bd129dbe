/**
 * PACS passwords and tokens sealed by the OS (Electron safeStorage: macOS Keychain, Windows DPAPI,
 * libsecret / kwallet on Linux). When the OS offers no encryption (Linux without a keyring),
 * safeStorage would use a fixed key, so the key-file box is used instead and a warning logged.
 */
import { safeStorage } from 'electron';
import { join } from 'node:path';
import { KeyFileSecretBox, type SecretBox } from '../src/node/pacs';

export class SafeStorageSecretBox implements SecretBox {
  readonly kind = 'safeStorage';
  encrypt(plain: string): Buffer {
    return safeStorage.encryptString(plain);
  }
  decrypt(sealed: Buffer): string {
    return safeStorage.decryptString(sealed);
  }
}

/** The OS-backed box when the OS can encrypt, else the key file in `keystoresDir` (with a warning). */
export function pacsSecretBox(keystoresDir: string, warn: (msg: string) => void): SecretBox {
  // on Linux, 'basic_text' means a hard-coded key: no better than a key file next to the data
  const plainText = process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text';
  if (safeStorage.isEncryptionAvailable() && !plainText) return new SafeStorageSecretBox();
  warn('safeStorage offers no OS encryption here (no keyring); PACS passwords are sealed with a key file in the app-data folder instead (docs/pacs.md)');
  return new KeyFileSecretBox(join(keystoresDir, 'pacs-secret.key'));
}
