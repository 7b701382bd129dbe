/**
 * Share by metadata (issue 13, docs/split-storage.md § Share by metadata). The sender puts into an
 * ordinary share package (encrypted to the recipient's key: src/node/share/package.ts, crypto.ts) each
 * instance's plain metadata part (every byte of the file but the Pixel Data value) and one file
 * `split-keys.json` with each instance's key — the only wrapping is the package's own. The manifest
 * (authenticated with the package header) names the pixel store and each blob's address and size.
 * The recipient fetches the blobs from that store, and rebuilds each original file; every check of
 * the rebuild (key check value, GCM tag with the leaf as associated data, the file's SHA-256) must
 * pass before anything is written.
 */
import { decodeMetadataPart, type MetadataHeader } from '../../core/split/format';
import { AppError, ErrorCode } from '../../shared/errors';
import { SplitError } from './errors';
import { rebuildFromParts } from './rebuild';
import type { SplitService } from './service';
import { storeUri } from './stores';

/** The progress sink of a long task (src/node/tasks.ts's Task fits). */
export interface ProgressSink {
  progress(u: { done?: number; total?: number | null; label?: string | null }, force?: boolean): void;
}

export const SPLIT_SHARE_FORMAT = 'medimgshr-split-share/1';
export const SPLIT_KEYS_FILE = 'split-keys.json';

/** What the manifest carries about a share by metadata (authenticated, not secret: no keys here). */
export interface SplitShare {
  format: typeof SPLIT_SHARE_FORMAT;
  /** The pixel store's location URI. */
  store: string;
  /** The package file holding the instance keys (hex), by metadata-part name. */
  keysFile: string;
  /** Per metadata-part name: the blob's address (SHA-256 of the ciphertext) and size. */
  blobs: Record<string, { address: string; size: number }>;
}

export interface ChosenInstance {
  name: string;
  path: string;
  sopInstanceUid: string;
  meta: string;
  pixel: string;
}

/**
 * The package files of a share by metadata. Instances not split yet are split now (into the
 * configured pixel store); a split instance whose digests differ from the anchored ones is refused.
 */
export async function splitShareFiles(
  split: SplitService,
  chosen: ChosenInstance[],
  task?: ProgressSink,
): Promise<{ files: { name: string; bytes: Uint8Array }[]; split: SplitShare; metadataBytes: number; pixelBytesInStore: number }> {
  const missing = chosen.filter((c) => !split.isSplit(c.sopInstanceUid));
  if (missing.length) {
    task?.progress({ total: missing.length, done: 0, label: 'splitting the images into metadata and pixel parts' }, true);
    const run = await split.splitFiles(missing.map((c) => c.path), { onProgress: (p) => task?.progress({ done: p.done }) });
    if (run.errors.length) {
      const e = run.errors[0]!;
      throw new AppError(ErrorCode.Unavailable, `${run.errors.length} image(s) of the study could not be split, so nothing was shared: ${e.path}: ${e.message}`, e.hint ?? 'Share the whole files instead.');
    }
  }
  const files: { name: string; bytes: Uint8Array }[] = [];
  const keys: Record<string, string> = {};
  const blobs: SplitShare['blobs'] = {};
  const stores = new Set<string>();
  let metadataBytes = 0;
  let pixelBytesInStore = 0;
  for (const c of chosen) {
    const storage = split.storageFor(c.sopInstanceUid);
    const { header, plain } = storage.openMetadata(c.sopInstanceUid);
    if (header.meta !== c.meta || header.pixel !== c.pixel) {
      throw new SplitError(
        'METADATA_MISMATCH',
        ErrorCode.Conflict,
        `Instance ${c.sopInstanceUid} was split from a file whose digests differ from the anchored record's; nothing was shared.`,
        c.sopInstanceUid,
        'Split the anchored file again (medimgshr split --study …) or anchor the study again.',
      );
    }
    files.push({ name: c.name, bytes: plain });
    keys[c.name] = storage.instanceKey(header.meta).toString('hex');
    blobs[c.name] = { address: header.blobAddress, size: header.blobSize };
    stores.add(storage.store.location);
    metadataBytes += plain.length;
    pixelBytesInStore += header.blobSize;
  }
  if (stores.size > 1) {
    throw new AppError(ErrorCode.Conflict, `The images of this study are in ${stores.size} different pixel stores (${[...stores].join(', ')}); a share by metadata names one.`, 'Rebuild them and split them again into one store, or share the whole files.');
  }
  files.push({ name: SPLIT_KEYS_FILE, bytes: Buffer.from(JSON.stringify(keys), 'utf8') });
  return { files, split: { format: SPLIT_SHARE_FORMAT, store: [...stores][0]!, keysFile: SPLIT_KEYS_FILE, blobs }, metadataBytes, pixelBytesInStore };
}

/** Rebuilds the original files of a received share by metadata, in memory; any failure throws and nothing is kept. */
export async function rebuildSplitShare(
  split: SplitService,
  spIn: unknown,
  files: { name: string; bytes: Uint8Array }[],
  recordStorageUri: string | null,
  onProgress?: (done: number) => void,
): Promise<{ files: { name: string; bytes: Uint8Array }[]; store: string; pixelBytesFetched: number }> {
  const sp = spIn as SplitShare;
  if (!sp || typeof sp !== 'object') throw new AppError(ErrorCode.Malformed, 'The share by metadata is incomplete.', 'Ask the sender to share again.');
  if (sp.format !== SPLIT_SHARE_FORMAT) {
    throw new AppError(ErrorCode.Malformed, `The share by metadata has format "${String(sp.format)}"; this app reads ${SPLIT_SHARE_FORMAT}.`, 'Update MedImgShr.');
  }
  if (typeof sp.store !== 'string' || typeof sp.keysFile !== 'string' || !sp.blobs || typeof sp.blobs !== 'object') {
    throw new AppError(ErrorCode.Malformed, 'The share by metadata is incomplete: its manifest does not name the pixel store, the key file and the blobs.', 'Ask the sender to share again.');
  }
  const uri = storeUri(sp.store);
  // When the chain record itself names a pixel store, the package must name the same one.
  if (recordStorageUri && /^(file|https?):\/\//i.test(recordStorageUri) && storeUri(recordStorageUri) !== uri) {
    throw new SplitError('STORE_UNKNOWN', ErrorCode.Tampered, `The package names the pixel store ${uri}, but the record on the ledger names ${storeUri(recordStorageUri)}; nothing was received.`, null, 'Ask the sender to share again.');
  }
  const store = split.resolveStore(uri);
  const keyFile = files.find((f) => f.name === sp.keysFile);
  let keys: Record<string, string>;
  try {
    keys = JSON.parse(Buffer.from(keyFile!.bytes).toString('utf8')) as Record<string, string>;
  } catch {
    throw new AppError(ErrorCode.Malformed, 'The share by metadata carries no readable instance keys.', 'Ask the sender to share again.');
  }
  const parts = files.filter((f) => f.name !== sp.keysFile);
  const out: { name: string; bytes: Uint8Array }[] = [];
  let fetched = 0;
  // A few blobs in flight at once: a WebDAV store answers each GET after a round trip.
  let next = 0;
  const results = new Array<{ name: string; bytes: Uint8Array }>(parts.length);
  const worker = async () => {
    while (next < parts.length) {
      const i = next++;
      const f = parts[i]!;
      let header: MetadataHeader;
      let metadata: Uint8Array;
      try {
        ({ header, metadata } = decodeMetadataPart(f.bytes));
      } catch (err) {
        throw new SplitError('METADATA_TAMPERED', ErrorCode.Tampered, `The metadata part ${f.name} of the share cannot be read: ${(err as Error).message}.`, null, 'Ask the sender to share again.');
      }
      const sop = header.sopInstanceUid;
      const want = sp.blobs[f.name];
      const keyHex = keys[f.name];
      if (!want || want.address !== header.blobAddress || typeof keyHex !== 'string' || !/^[0-9a-f]{64}$/.test(keyHex)) {
        throw new SplitError('METADATA_MISMATCH', ErrorCode.Tampered, `The share's manifest and the metadata part of instance ${sop} disagree about its pixel blob or key.`, sop, 'Ask the sender to share again.');
      }
      let blob: Buffer | null;
      try {
        blob = await store.get(header.blobAddress);
      } catch (err) {
        const e = err as SplitError;
        throw new SplitError('STORE_UNAVAILABLE', ErrorCode.Unavailable, `The pixel store ${uri} could not be read for instance ${sop}: ${e.message}`, sop, e.hint ?? 'Check that the store is reachable from this workstation, then receive the package again.');
      }
      if (!blob) {
        throw new SplitError('BLOB_MISSING', ErrorCode.NotFound, `The pixel store ${uri} has no blob ${header.blobAddress.slice(0, 16)}… for instance ${sop}: its Pixel Data cannot be restored; nothing was received.`, sop, 'Ask the sender whether the store was cleaned up or moved.');
      }
      fetched += blob.length;
      const bytes = rebuildFromParts(header, metadata, Buffer.from(keyHex, 'hex'), blob);
      results[i] = { name: f.name.replace(/\.msm$/, '.dcm'), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
      onProgress?.(results.filter(Boolean).length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, parts.length) }, worker));
  out.push(...results);
  return { files: out, store: uri, pixelBytesFetched: fetched };
}
