/**
 * What a damaged file goes through, as in the app: import (header read + index record), fingerprint (all three
 * digests), thumbnail, PNG export, and split storage (cut into metadata part + encrypted pixel blob, sealed, opened
 * and rebuilt byte for byte; only for a case the import accepted, as the app splits only imported files). Each target's outcome is ok, a rejection (an error code and a message for the
 * user) or a crash (anything else: a library's exception escaping, a message in a library's terms).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isApiError } from '../../src/shared/errors';
import { scanFile } from '../../src/node/library/scan';
import { fingerprintFile } from '../../src/node/fingerprint/compute';
import { renderThumbnail } from '../../src/node/library/thumbnail-render';
import { renderPng } from '../../src/node/export/png';
import { AppError } from '../../src/shared/errors';
import { randomBytes } from 'node:crypto';
import { encodeMetadataPart } from '../../src/core/split/format';
import { metadataHeaderOf } from '../../src/node/split/split-storage';
import { cutInstance } from '../../src/node/split/split';
import { rebuildFromParts } from '../../src/node/split/rebuild';
import { encryptPixelPart, openMetadataPart, sealMetadataPart } from '../../src/node/split/seal';
import { deriveInstanceKey, deriveSealKey } from '../../src/node/split/keys';
import { blobAddress } from '../../src/node/split/pixel-store';

export type Outcome = { target: string; result: 'ok' } | { target: string; result: 'skipped' } | { target: string; result: 'rejected'; code: string; message: string } | { target: string; result: 'crash'; message: string };

/**
 * A message the user could act on names the problem in DICOM or clinical terms. These patterns are the marks of a
 * library's or the runtime's own words leaking through instead.
 */
const INTERNALS = [
  /dicomParser/i,
  /\bCannot read propert/i,
  /\bundefined\b/,
  /\bnull\b/,
  /\bNaN\b/,
  /RangeError|TypeError|ReferenceError/,
  /offset is out of bounds|out of range of buffer|Invalid typed array length|Array buffer allocation failed/i,
  /is not a function|is not iterable/i,
  /Maximum call stack/i,
  /\bat [\w.]+ \(|\.[cm]?js:\d+|\.ts:\d+/,
  /\b(Uint8Array|ArrayBuffer|DataView|Buffer)\b/,
  /charls|openjpeg|libjpeg|emscripten|wasm|jpeg-lossless-decoder|pngjs|zlib/i,
  /\bfindEnd|readFixedString|readUint|parseDicom\w*|explicitElementToString\b/,
];
export function leaksInternals(message: string): RegExp | null {
  return INTERNALS.find((re) => re.test(message)) ?? null;
}

function classify(target: string, err: unknown): Outcome {
  if (err instanceof AppError || isApiError(err)) {
    const e = err as { code: string; message: string };
    return leaksInternals(e.message) ? { target, result: 'crash', message: `${e.code}: ${e.message}` } : { target, result: 'rejected', code: e.code, message: e.message };
  }
  return { target, result: 'crash', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
function rejected(target: string, code: string, message: string): Outcome {
  return leaksInternals(message) ? { target, result: 'crash', message: `${code}: ${message}` } : { target, result: 'rejected', code, message };
}

export async function runTargets(bytes: Uint8Array, dir: string): Promise<Outcome[]> {
  const path = join(dir, 'case.dcm');
  writeFileSync(path, bytes);
  const out: Outcome[] = [];
  // import: the header read and the index record (never throws by contract: a throw is a crash)
  try {
    const r = await scanFile({ path, known: null });
    out.push(r.kind === 'rejected' ? rejected('import', r.rejected.code, r.rejected.reason) : { target: 'import', result: 'ok' });
  } catch (err) {
    out.push({ target: 'import', result: 'crash', message: `scanFile threw: ${err instanceof Error ? err.message : String(err)}` });
  }
  // fingerprint (never throws by contract)
  try {
    const r = await fingerprintFile(path);
    out.push(r.ok ? { target: 'fingerprint', result: 'ok' } : rejected('fingerprint', r.error.code, r.error.message));
  } catch (err) {
    out.push({ target: 'fingerprint', result: 'crash', message: `fingerprintFile threw: ${err instanceof Error ? err.message : String(err)}` });
  }
  // thumbnail: a placeholder with a reason the study browser shows
  try {
    const t = await renderThumbnail({ bytes, size: 64, windowCenter: null, windowWidth: null, rescaleSlope: null, rescaleIntercept: null });
    out.push(t.placeholder ? rejected('thumbnail', 'PLACEHOLDER', t.reason ?? '') : { target: 'thumbnail', result: 'ok' });
  } catch (err) {
    out.push(classify('thumbnail', err));
  }
  // PNG export
  try {
    await renderPng(bytes, { notForDiagnosticUse: true, overlayText: ['FUZZ'] });
    out.push({ target: 'png', result: 'ok' });
  } catch (err) {
    out.push(classify('png', err));
  }
  // split → seal → open → rebuild (the split storage's own functions, in memory): the rebuilt file must be the
  // case's bytes exactly; a file the import rejected is not split (the app splits only imported files).
  if (out[0]?.result === 'ok') {
    try {
      const rebuilt = await splitAndRebuild(bytes);
      out.push(Buffer.compare(rebuilt, Buffer.from(bytes)) === 0 ? { target: 'split', result: 'ok' } : { target: 'split', result: 'crash', message: `the rebuilt file differs from the original (${rebuilt.length} vs ${bytes.length} bytes)` });
    } catch (err) {
      out.push(classify('split', err));
    }
  } else {
    out.push({ target: 'split', result: 'skipped' });
  }
  return out;
}

const SECRET = randomBytes(32);

/** What split storage does to one file (src/node/split/split-storage.ts splitOne + rebuild), without a store. */
async function splitAndRebuild(bytes: Uint8Array): Promise<Buffer> {
  const cut = await cutInstance(bytes);
  const key = deriveInstanceKey(SECRET, cut.meta);
  const blob = encryptPixelPart(key, cut.leaf, cut.fileSha256, cut.pixelPart);
  const header = metadataHeaderOf(cut, key, blob, blobAddress(blob));
  const sealKey = deriveSealKey(SECRET);
  const sealed = sealMetadataPart(sealKey, cut.sopInstanceUid, encodeMetadataPart(header, cut.metadata));
  const opened = openMetadataPart(sealKey, sealed, cut.sopInstanceUid);
  return rebuildFromParts(opened.header, opened.metadata, deriveInstanceKey(SECRET, opened.header.meta), blob);
}
