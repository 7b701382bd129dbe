/**
 * Anonymised DICOM export: PS3.15 Annex E Basic Application Level Confidentiality Profile
 * (src/core/deid) applied to each file, read and written with dcmjs, new UIDs mapped consistently
 * across the whole export, burned-in annotation respected, and the output moved into place only
 * when every file is written (src/node/atomic.ts).
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { AppError, ErrorCode } from '../../shared/errors';
import {
  DEID_METHOD,
  PROFILE_EDITION,
  UidMap,
  burnedInVerdict,
  deidentifyDataset,
  markDeidentified,
  type BurnedInStatus,
  type CombinedPolicy,
  type DcmDict,
} from '../../core/deid/deidentify';
import { atomicExport } from '../atomic';
import { DicomFileError, parseDicomBytes } from './parse';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './implementation';

const { DicomMessage, DicomDict } = (dcmjs as { data: { DicomMessage: DicomMessageApi; DicomDict: DicomDictCtor } }).data;
interface DicomMessageApi {
  readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean }): { meta: DcmDict; dict: DcmDict };
}
type DicomDictCtor = new (meta: DcmDict) => { dict: DcmDict; write(options?: Record<string, unknown>): ArrayBuffer };

const DEFLATED = '1.2.840.10008.1.2.1.99';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** Implementation Class UID / Version Name written in the file meta of files this app writes. */
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME };

export interface AnonymiseOverride {
  /** Export instances with burned-in annotation anyway (marked Patient Identity Removed = NO). */
  burnedInAnnotation: { reason: string };
}

export interface AnonymiseOptions {
  /** Input DICOM files (Part 10). */
  files: string[];
  /** Destination folder; must not exist yet (it appears only when the export is complete). */
  outDir: string;
  override?: AnonymiseOverride;
  /** Fail the whole export (writing nothing) when any file is skipped. Default false: skip and report. */
  strict?: boolean;
  /** How combined codes (X/Z, X/D, …) resolve; see src/core/deid/deidentify.ts. */
  combined?: CombinedPolicy;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** UID map to use (tests pass one to inspect it); a fresh one per export otherwise. */
  uids?: UidMap;
}

export type AnonymiseSkipCode = 'BURNED_IN_ANNOTATION' | 'STRUCTURED_CONTENT' | 'NOT_PART10' | 'UNREADABLE_DICOM' | 'WRITE_FAILED';

/** Structured documents (SR, Key Object Selection: SOP Classes 1.2.840.10008.5.1.4.1.1.88.*). */
const STRUCTURED_DOCUMENT = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\./;

/**
 * A structured report or key image document is not exported anonymised: the Basic Profile removes its Content
 * Sequence and references (what is left is no longer a valid document — dciodvfy reports the missing Type 1
 * content), and keeping them needs the Retain Clean Structured Content option, which this version does not have.
 */
class StructuredContentRefusal extends AppError {
  constructor(sopClassUid: string) {
    super(
      ErrorCode.Denied,
      `Not exported as anonymised: a structured document (SOP Class ${sopClassUid}, e.g. a measurement report or key image selection) — its text, observer names and image references cannot be de-identified by the Basic Profile without emptying it.`,
      "Export the study's images anonymised and leave the report out, or share the report as an original through a consented share.",
    );
  }
}

export interface AnonymisedFile {
  source: string;
  /** Path relative to the export folder. */
  output: string;
  burnedIn: BurnedInStatus;
  /** True when burned-in annotation was exported under the override (identity NOT fully removed). */
  overridden: boolean;
  transferSyntaxUid: string;
}

export interface AnonymiseReport {
  outDir: string;
  profile: string;
  written: AnonymisedFile[];
  skipped: { source: string; code: AnonymiseSkipCode; reason: string }[];
  /** How many distinct UIDs were replaced. */
  uidsReplaced: number;
  overrideReason: string | null;
}

export interface AnonymisedBytes {
  bytes: Uint8Array;
  burnedIn: BurnedInStatus;
  overridden: boolean;
  transferSyntaxUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const LONG_HEADER_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const UNDEFINED = 0xffffffff;

class ScanError extends Error {}

/**
 * A minimal little-endian element scanner (implicit or explicit VR) that only finds element
 * boundaries — it decodes no values. Used to drop private elements that dcmjs cannot parse.
 */
function elementEnd(b: DataView, pos: number, explicit: boolean): number {
  if (pos + 8 > b.byteLength) throw new ScanError('element header past the end');
  const group = b.getUint16(pos, true);
  const elem = b.getUint16(pos + 2, true);
  let len: number;
  let valueStart: number;
  if (group === 0xfffe) {
    len = b.getUint32(pos + 4, true);
    valueStart = pos + 8;
    if (elem === 0xe000 && len === UNDEFINED) return skipToDelimiter(b, valueStart, explicit, 0xe00d);
  } else if (explicit) {
    const vr = String.fromCharCode(b.getUint8(pos + 4), b.getUint8(pos + 5));
    if (LONG_HEADER_VRS.has(vr)) {
      if (pos + 12 > b.byteLength) throw new ScanError('element header past the end');
      len = b.getUint32(pos + 8, true);
      valueStart = pos + 12;
    } else {
      len = b.getUint16(pos + 6, true);
      valueStart = pos + 8;
    }
  } else {
    len = b.getUint32(pos + 4, true);
    valueStart = pos + 8;
  }
  if (len === UNDEFINED) return skipToDelimiter(b, valueStart, explicit, 0xe0dd);
  if (valueStart + len > b.byteLength) throw new ScanError('element value past the end');
  return valueStart + len;
}

function skipToDelimiter(b: DataView, pos: number, explicit: boolean, delimiter: number): number {
  // Inside an undefined-length item/sequence: nested elements (items use implicit-style headers).
  // Private sequences in implicit VR hold implicit data sets; explicit files hold explicit ones.
  let p = pos;
  for (;;) {
    if (p + 8 > b.byteLength) throw new ScanError('no delimiter before the end');
    const group = b.getUint16(p, true);
    const elem = b.getUint16(p + 2, true);
    if (group === 0xfffe && elem === delimiter) return p + 8;
    p = elementEnd(b, p, explicit);
  }
}

/** Offset of the first data set element after the file meta group of a Part 10 file. */
function dataSetStart(b: DataView): number {
  let p = 132;
  while (p + 8 <= b.byteLength && b.getUint16(p, true) === 0x0002) p = elementEnd(b, p, true);
  return p;
}

/** The bytes without their top-level private elements, or null when none were found or the scan failed. */
function stripTopLevelPrivate(bytes: Uint8Array, transferSyntaxUid: string): Uint8Array | null {
  if (transferSyntaxUid !== IMPLICIT_LE && transferSyntaxUid !== EXPLICIT_LE) return null;
  const explicit = transferSyntaxUid === EXPLICIT_LE;
  const b = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keep: Uint8Array[] = [];
  let removed = 0;
  try {
    let p = dataSetStart(b);
    keep.push(bytes.subarray(0, p));
    while (p < b.byteLength) {
      const end = elementEnd(b, p, explicit);
      if (b.getUint16(p, true) % 2 === 1) removed++;
      else keep.push(bytes.subarray(p, end));
      p = end;
    }
  } catch (err) {
    if (err instanceof ScanError) return null;
    throw err;
  }
  return removed > 0 ? Buffer.concat(keep) : null;
}

/** A Part 10 wrapper (preamble, DICM, file meta written by dcmjs) for a raw data set without one. */
function wrapRawDataSet(raw: Uint8Array, transferSyntaxUid: string, sopClass: string, sopInstance: string): Uint8Array {
  const meta: DcmDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClass] },
    '00020003': { vr: 'UI', Value: [sopInstance] },
    '00020010': { vr: 'UI', Value: [transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] },
  };
  const header = new Uint8Array(new DicomDict(meta).write());
  return Buffer.concat([header, raw]);
}

/** The Transfer Syntax UID from a Part 10 file's meta group (scanned, not parsed), or null. */
function part10TransferSyntax(bytes: Uint8Array): string | null {
  if (bytes.length < 140 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') return null;
  const b = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    let p = 132;
    while (p + 8 <= b.byteLength && b.getUint16(p, true) === 0x0002) {
      const end = elementEnd(b, p, true);
      if (b.getUint16(p + 2, true) === 0x0010) {
        return Buffer.from(bytes.subarray(p + 8, end)).toString('latin1').replace(/[\0 ]+$/, '') || null;
      }
      p = end;
    }
  } catch {
    return null;
  }
  return null;
}

function readWithDcmjs(bytes: Uint8Array, transferSyntaxUid: string): { meta: DcmDict; dict: DcmDict } {
  try {
    return DicomMessage.readFile(toArrayBuffer(bytes));
  } catch (first) {
    const stripped = stripTopLevelPrivate(bytes, transferSyntaxUid);
    if (stripped) {
      try {
        return DicomMessage.readFile(toArrayBuffer(stripped));
      } catch {
        /* fall through to the original error */
      }
    }
    throw new DicomFileError('MALFORMED', ErrorCode.Malformed, `The DICOM data set cannot be decoded for anonymisation: ${(first as Error).message}.`);
  }
}

/**
 * Anonymises one Part-10 file held in memory. Throws an AppError (code Denied) when burned-in
 * annotation blocks it and there is no override; a DicomFileError when the bytes are not readable.
 */
export function anonymiseBytes(
  bytes: Uint8Array,
  ctx: { uids: UidMap; override?: AnonymiseOverride; combined?: CombinedPolicy },
): AnonymisedBytes {
  let input = bytes;
  let ts: string;
  try {
    const parsed = parseDicomBytes(bytes); // classified errors: not DICOM, truncated, unsupported syntax …
    ts = parsed.transferSyntaxUid;
    if (!parsed.part10) {
      // A raw data set (no preamble / file meta): give it a Part 10 header so it can be rewritten.
      const str = (tag: string) => parsed.dataSet.string(tag) ?? '';
      const sopClass = str('x00080016');
      const sopInstance = str('x00080018');
      if (!sopClass || !sopInstance) {
        throw new DicomFileError('MISSING_UIDS', ErrorCode.Malformed, 'The data set has no DICOM Part 10 header and no SOP Class / SOP Instance UID, so it cannot be rewritten as a DICOM file.');
      }
      input = wrapRawDataSet(bytes, ts, sopClass, sopInstance);
    }
  } catch (err) {
    // dicom-parser rejects some files whose only defect is a malformed private element (which the
    // profile removes anyway): try again without the private elements before giving up.
    if (!(err instanceof DicomFileError) || err.reject !== 'MALFORMED') throw err;
    const ts0 = part10TransferSyntax(bytes);
    const stripped = ts0 ? stripTopLevelPrivate(bytes, ts0) : null;
    if (!stripped || !ts0) throw err;
    parseDicomBytes(stripped);
    input = stripped;
    ts = ts0;
  }
  const { meta, dict } = readWithDcmjs(input, ts);
  const sopClassUid = String(dict['00080016']?.Value?.[0] ?? '').replace(/\0/g, '').trim();
  if (STRUCTURED_DOCUMENT.test(sopClassUid)) throw new StructuredContentRefusal(sopClassUid);
  const verdict = burnedInVerdict(dict);
  const overridden = verdict.blocks && !!ctx.override;
  if (verdict.blocks && !ctx.override) {
    throw new AppError(ErrorCode.Denied, `Not exported as anonymised: ${verdict.reason}`, 'Check the pixels for patient details; to export anyway, confirm an override with a reason (it is recorded in the audit log).');
  }
  deidentifyDataset(dict, { uids: ctx.uids, combined: ctx.combined }, meta);
  const method = [...DEID_METHOD];
  if (overridden) method.push('Burned-in annotation NOT removed (override)');
  markDeidentified(dict, !overridden, method);
  ts = String(meta['00020010']?.Value?.[0] ?? ts).replace(/\0/g, '').trim();
  if (ts === DEFLATED) {
    // dcmjs cannot write deflated data sets; Explicit VR Little Endian keeps every value unchanged.
    ts = EXPLICIT_LE;
    meta['00020010'] = { vr: 'UI', Value: [ts] };
  }
  delete meta['00020000'];
  // This app writes the file now: its own implementation identity, no source application details.
  meta['00020012'] = { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] };
  meta['00020013'] = { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] };
  for (const t of ['00020016', '00020017', '00020018', '00020100', '00020102']) delete meta[t]; // AE titles, private info
  const out = new DicomDict(meta);
  out.dict = dict;
  let written: ArrayBuffer;
  try {
    written = out.write();
  } catch (err) {
    throw new AppError(ErrorCode.Internal, `The anonymised file could not be encoded: ${(err as Error).message}.`);
  }
  const result = new Uint8Array(written);
  parseDicomBytes(result); // never hand out a file we cannot read back
  return {
    bytes: result,
    burnedIn: verdict.status,
    overridden,
    transferSyntaxUid: ts,
    sopInstanceUid: String(dict['00080018']?.Value?.[0] ?? ''),
    seriesInstanceUid: String(dict['0020000E']?.Value?.[0] ?? ''),
  };
}

function skipCodeOf(err: unknown): AnonymiseSkipCode {
  if (err instanceof StructuredContentRefusal) return 'STRUCTURED_CONTENT';
  if (err instanceof AppError && err.code === ErrorCode.Denied) return 'BURNED_IN_ANNOTATION';
  if (err instanceof DicomFileError && err.reject === 'NOT_DICOM' && /Part 10/.test(err.message)) return 'NOT_PART10';
  if (err instanceof DicomFileError || err instanceof AppError) return 'UNREADABLE_DICOM';
  return 'WRITE_FAILED';
}

/**
 * Exports `files` anonymised into `outDir` (created only on success). Files that cannot be
 * anonymised (burned-in annotation without override, unreadable) are skipped with a reason; with
 * `strict` any skip fails the export and nothing is written.
 */
export async function anonymiseExport(opts: AnonymiseOptions): Promise<AnonymiseReport> {
  const uids = opts.uids ?? new UidMap();
  if (opts.override && !opts.override.burnedInAnnotation.reason.trim()) {
    throw new AppError(ErrorCode.InvalidArgument, 'An override needs a typed reason.', 'Say why the images may leave with burned-in annotation.');
  }
  return atomicExport(
    opts.outDir,
    async (staging) => {
      const report: AnonymiseReport = {
        outDir: opts.outDir,
        profile: PROFILE_EDITION,
        written: [],
        skipped: [],
        uidsReplaced: 0,
        overrideReason: opts.override?.burnedInAnnotation.reason ?? null,
      };
      const seriesDirs = new Map<string, string>();
      const counters = new Map<string, number>();
      let done = 0;
      for (const source of opts.files) {
        if (opts.signal?.aborted) throw new AppError(ErrorCode.Cancelled, 'The export was cancelled; nothing was written.');
        try {
          let bytes: Uint8Array;
          try {
            bytes = await readFile(source);
          } catch (err) {
            throw new DicomFileError('UNREADABLE', ErrorCode.Unreadable, `The file cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
          }
          if (bytes.length > MAX_FILE_BYTES) throw new DicomFileError('TOO_LARGE', ErrorCode.Unreadable, 'The file is larger than 1 GB.');
          const a = anonymiseBytes(bytes, { uids, override: opts.override, combined: opts.combined });
          let dir = seriesDirs.get(a.seriesInstanceUid);
          if (!dir) {
            dir = `series-${String(seriesDirs.size + 1).padStart(3, '0')}`;
            seriesDirs.set(a.seriesInstanceUid, dir);
            await mkdir(join(staging, dir), { recursive: true });
          }
          const n = (counters.get(dir) ?? 0) + 1;
          counters.set(dir, n);
          const rel = `${dir}/image-${String(n).padStart(4, '0')}.dcm`;
          await writeFile(join(staging, rel), a.bytes, { flag: 'wx' });
          report.written.push({ source, output: rel, burnedIn: a.burnedIn, overridden: a.overridden, transferSyntaxUid: a.transferSyntaxUid });
        } catch (err) {
          if (err instanceof AppError && err.code === ErrorCode.Cancelled) throw err;
          report.skipped.push({ source, code: skipCodeOf(err), reason: (err as Error).message });
        }
        opts.onProgress?.(++done, opts.files.length);
      }
      if (opts.strict && report.skipped.length > 0) {
        const first = report.skipped[0]!;
        throw new AppError(ErrorCode.Denied, `The export was stopped and nothing was written: ${report.skipped.length} of ${opts.files.length} files could not be anonymised (first: ${first.reason})`, 'Remove those files from the export, or confirm an override for burned-in annotation.');
      }
      if (report.written.length === 0) {
        throw new AppError(ErrorCode.Denied, `Nothing could be anonymised, so nothing was written (${report.skipped[0]?.reason ?? 'no files given'}).`, 'Check the reasons in the export report.');
      }
      report.uidsReplaced = uids.size;
      // The report inside the export names no source paths (folder names can identify a patient).
      const onDisk = {
        profile: report.profile,
        created: new Date().toISOString(),
        files: report.written.map((w) => ({ output: w.output, burnedInAnnotation: w.burnedIn, overridden: w.overridden })),
        skipped: report.skipped.map((s) => ({ code: s.code })),
        overrideReason: report.overrideReason,
        note: 'Images marked overridden may show patient details burned into the pixels.',
      };
      await writeFile(join(staging, 'anonymisation-report.json'), JSON.stringify(onDisk, null, 2));
      return report;
    },
    { signal: opts.signal },
  );
}
