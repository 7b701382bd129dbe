/**
 * The pixel store: encrypted pixel blobs, content-addressed by the SHA-256 (hex) of the blob's
 * bytes. A store never sees a key, a UID or a file name; it holds opaque blobs and their sizes.
 * Writing the same blob twice is a no-op (same address). Backends: FolderPixelStore (the
 * embedded default, a folder in app data) and WebDavPixelStore (a region's HTTP store).
 */
import { createHash } from 'node:crypto';

export interface StoredBlob {
  address: string;
  size: number;
  /** Last modification, ms since the epoch (garbage collection spares young blobs). */
  modifiedMs: number;
}

export interface PixelStore {
  /** A URI naming the store (what the chain record's storage address would point to). */
  readonly location: string;
  /** Stores a blob durably; resolves to its address once it is safe. `address` may be given when already computed. */
  put(blob: Uint8Array, address?: string): Promise<string>;
  /** The blob, or null when the store does not have it. */
  get(address: string): Promise<Buffer | null>;
  has(address: string): Promise<boolean>;
  /** Removes a blob; false when it was not there. */
  delete(address: string): Promise<boolean>;
  list(): AsyncIterable<StoredBlob>;
}

export const blobAddress = (blob: Uint8Array): string => createHash('sha256').update(blob).digest('hex');

export function isAddress(a: string): boolean {
  return /^[0-9a-f]{64}$/.test(a);
}

export function checkAddress(a: string): string {
  if (!isAddress(a)) throw new Error(`not a pixel-store address (64 lowercase hex digits): ${a}`);
  return a;
}
