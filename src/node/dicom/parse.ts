/**
 * Reading DICOM files with dicom-parser, with every failure classified into an error a user can
 * act on (not DICOM, compressed archive, truncated, unsupported transfer syntax, malformed,
 * unreadable, too large). Header-only reads stop before Pixel Data; deflated data sets are inflated
 * with a size cap so a zip bomb cannot exhaust memory.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { AppError, ErrorCode } from '../../shared/errors';
import type { RejectCode } from '../../shared/api/library';
import { isKnownTransferSyntax } from './transfer-syntaxes';
import { describeParserFailure } from '../../shared/parser-messages';

export const PIXEL_DATA_TAG = 'x7fe00010';
export const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';

/** Limits that keep a hostile file from exhausting memory or time. */
export interface ReadLimits {
  /** Largest header (everything before Pixel Data) we will read, bytes. */
  maxHeaderBytes: number;
  /** Largest file we will read whole (full reads and hashing stream past this). */
  maxWholeFileBytes: number;
  /** Largest inflated size of a deflated data set, bytes. */
  maxInflatedBytes: number;
}
export const DEFAULT_LIMITS: ReadLimits = {
  maxHeaderBytes: 64 * 1024 * 1024,
  maxWholeFileBytes: 1024 * 1024 * 1024,
  maxInflatedBytes: 512 * 1024 * 1024,
};

/** A classified read failure: the bridge error code plus the import report's reject code. */
export class DicomFileError extends AppError {
  constructor(
    readonly reject: RejectCode,
    code: ErrorCode,
    message: string,
    hint?: string,
  ) {
    super(code, message, hint);
    this.name = 'DicomFileError';
  }
}

export interface ParsedDicom {
  /** Meta header and data set elements, merged (as dicom-parser returns them). */
  dataSet: DataSet;
  transferSyntaxUid: string;
  /** True when the file has the 128-byte preamble and "DICM" (Part 10). */
  part10: boolean;
  /** True when parsing stopped at Pixel Data (its value was not read). */
  headerOnly: boolean;
  /** Size of the file on disk. */
  fileSize: number;
  /** True for a DICOMDIR (Media Storage Directory). */
  isDicomdir: boolean;
  warnings: string[];
}

/** The value representations of PS3.5 (an explicit-VR element with any other is malformed). */
export const VRS: ReadonlySet<string> = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN',
  'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

function messageOf(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'exception' in err) return messageOf((err as { exception: unknown }).exception);
  if (err instanceof Error) return err.message;
  return String(err);
}

function tagLabel(tag: string): string {
  const t = tag.replace(/^x/, '').toUpperCase();
  return `(${t.slice(0, 4)},${t.slice(4, 8)})`;
}

/** What the first bytes say the file is, before any DICOM parsing. */
export function sniffNonDicom(head: Uint8Array): DicomFileError | null {
  const b = head;
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  const archive = (kind: string) =>
    new DicomFileError(
      'COMPRESSED_ARCHIVE',
      ErrorCode.NotDicom,
      `This is a compressed archive (${kind}), not a DICOM file.`,
      'Unzip it first, then import the extracted folder.',
    );
  if (starts(0x1f, 0x8b)) return archive('gzip');
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06)) return archive('zip');
  if (starts(0x42, 0x5a, 0x68)) return archive('bzip2');
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return archive('xz');
  if (starts(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)) return archive('7z');
  if (starts(0x52, 0x61, 0x72, 0x21)) return archive('rar');
  if (b.length > 262 && b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72)
    return archive('tar');
  return null;
}

function notDicom(what: string): DicomFileError {
  return new DicomFileError(
    'NOT_DICOM',
    ErrorCode.NotDicom,
    `This is not a DICOM file: ${what}.`,
    'Only DICOM files (and folders or DICOMDIRs containing them) can be imported.',
  );
}

/** Guesses the transfer syntax of a raw data set (no preamble, no meta header), or null when it does not look like one. */
export function sniffRawDataSet(b: Uint8Array): string | null {
  if (b.length < 12) return null;
  const groupLE = b[0]! | (b[1]! << 8);
  const groupBE = (b[0]! << 8) | b[1]!;
  const plausible = (g: number) => g === 0x0002 || g === 0x0004 || g === 0x0008 || g === 0x0010;
  const vr = String.fromCharCode(b[4]!, b[5]!);
  const explicit = VRS.has(vr);
  if (plausible(groupLE)) {
    if (explicit) return EXPLICIT_LE;
    // implicit: a 32-bit length that fits in the file
    const len = (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + b[7]! * 0x1000000;
    return len < b.length ? IMPLICIT_LE : null;
  }
  if (plausible(groupBE) && explicit) return EXPLICIT_BE;
  return null;
}

function inflaterWithCap(maxBytes: number) {
  return (byteArray: Uint8Array, position: number): Uint8Array => {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(byteArray.subarray(position), { maxOutputLength: maxBytes });
    } catch (err) {
      if (err instanceof RangeError || /maxOutputLength|buffer/i.test(messageOf(err))) {
        throw new DicomFileError(
          'TOO_LARGE',
          ErrorCode.Malformed,
          `The deflated data set expands to more than ${Math.round(maxBytes / 1048576)} MB (a possible zip bomb); it was not read.`,
          'If the file is genuine, convert it to an uncompressed transfer syntax (e.g. dcmconv +te) and import that.',
        );
      }
      throw new DicomFileError('TRUNCATED', ErrorCode.Truncated, 'The deflated data set is damaged or cut short: it cannot be inflated.');
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(byteArray.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
}

/** Finds the transfer syntax from the meta header when present; guesses it when the meta header lacks (0002,0010). */
function guessMissingTransferSyntax(bytes: Uint8Array): string | null {
  // Walk the explicit-LE meta group after the preamble to its end, then look at the first data element.
  let p = 132;
  while (p + 8 <= bytes.length) {
    const group = bytes[p]! | (bytes[p + 1]! << 8);
    if (group !== 0x0002) break;
    const vr = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!);
    if (['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OF', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr)) {
      const len = (bytes[p + 8]! | (bytes[p + 9]! << 8) | (bytes[p + 10]! << 16)) + bytes[p + 11]! * 0x1000000;
      p += 12 + len;
    } else {
      p += 8 + (bytes[p + 6]! | (bytes[p + 7]! << 8));
    }
  }
  if (p + 6 > bytes.length) return null;
  return VRS.has(String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!)) ? EXPLICIT_LE : IMPLICIT_LE;
}

interface Bounds {
  element: Element;
  end: number;
}

/**
 * One walk over every element (nested items too) for the two checks of a parsed data set:
 * - `over`: the element (outside Pixel Data) that reaches furthest past `limit`, if any;
 * - `badVr` (explicit VR only): the first element whose value representation is not a DICOM VR.
 * (Two walks with Object.values cost as much as dicom-parser's own parse of a CT header.)
 */
function checkElements(ds: DataSet, limit: number, explicit: boolean): { over: Bounds | null; badVr: string | null } {
  let over: Bounds | null = null;
  let badVr: string | null = null;
  const visit = (set: DataSet, bounds: boolean, vrs: boolean) => {
    const elements = set.elements;
    for (const key in elements) {
      const el = elements[key]!;
      const tag = el.tag;
      const isPixelData = tag === PIXEL_DATA_TAG;
      if (bounds && !isPixelData && !el.hadUndefinedLength && el.length !== undefined) {
        const end = el.dataOffset + el.length;
        if (end > limit && (!over || end > over.end)) over = { element: el, end };
      }
      const vrChecked = vrs && badVr === null && !(tag.startsWith('xfffe') || tag === 'x00000000');
      if (vrChecked && el.vr !== undefined && !VRS.has(el.vr)) {
        badVr = `element ${tagLabel(tag)} has the invalid value representation "${el.vr.replace(/[^\x20-\x7e]/g, '?')}"`;
      }
      const items = el.items;
      if (items) {
        const b = bounds && !isPixelData;
        const v = vrChecked && badVr === null;
        if (b || v) for (const item of items) if (item.dataSet) visit(item.dataSet, b, v);
      }
    }
  };
  visit(ds, true, explicit);
  return { over, badVr };
}

/** Whether the failure looks like running out of bytes (read more, or the file is truncated). */
function isOutOfBytes(msg: string): boolean {
  return /past end of buffer|buffer overr(un|ead)|eof encountered|cannot be greater than or equal|position cannot be less|unexpected end|invalid value for parameter 'maxP/i.test(msg);
}

/**
 * A declared length no real file has: 1 GiB or more and beyond the file's end. (Anything smaller
 * that runs past the end is a truncated file: a cut-short image declares far more than remains.)
 */
export function impossibleLength(length: number, fileSize: number): boolean {
  return length >= 0x40000000 && length > fileSize;
}

function classifyParseFailure(err: unknown, partialSet: DataSet | undefined, partial: boolean, part10: boolean, fileSize: number): Error {
  if (err instanceof DicomFileError) return err;
  const msg = messageOf(err);
  if (isOutOfBytes(msg)) {
    if (partial) return new NeedMoreBytes();
    const impossible = partialSet && Object.values(partialSet.elements).find((el) => !el.hadUndefinedLength && el.length !== 0xffffffff && impossibleLength(el.length, fileSize));
    if (impossible) {
      return new DicomFileError('MALFORMED', ErrorCode.Malformed, `Element ${tagLabel(impossible.tag)} declares an impossible length of ${impossible.length} bytes in a ${fileSize}-byte file.`);
    }
    const last = partialSet ? Object.keys(partialSet.elements).sort().pop() : undefined;
    return new DicomFileError(
      'TRUNCATED',
      ErrorCode.Truncated,
      `The file ends in the middle of its data${last ? ` (after element ${tagLabel(last)})` : ''}: it is truncated.`,
      'Copy the file again from its source; the copy is incomplete.',
    );
  }
  if (!part10) return notDicom(`it looked like a raw data set but cannot be parsed (${describeParserFailure(msg)})`);
  return new DicomFileError('MALFORMED', ErrorCode.Malformed, `The data set is malformed: ${describeParserFailure(msg)}.`);
}

export interface ParseBytesOptions {
  /** Stop before Pixel Data. */
  headerOnly?: boolean;
  /** Total file size when `bytes` is only the first part of the file. */
  fileSize?: number;
  limits?: Partial<ReadLimits>;
}

/**
 * Parses bytes (a whole file, or its first part when `fileSize` is larger). Throws a
 * DicomFileError; `NeedMoreBytes` when `bytes` is a prefix and parsing ran past its end.
 */
export class NeedMoreBytes extends Error {}

export function parseDicomBytes(bytes: Uint8Array, opts: ParseBytesOptions = {}): ParsedDicom {
  try {
    return parseDicomBytesUnguarded(bytes, opts);
  } catch (err) {
    if (err instanceof DicomFileError || err instanceof NeedMoreBytes) throw err;
    // Anything dicom-parser throws while reading values of a damaged file.
    throw classifyParseFailure(err, undefined, bytes.length < (opts.fileSize ?? bytes.length), true, opts.fileSize ?? bytes.length);
  }
}

function parseDicomBytesUnguarded(bytes: Uint8Array, opts: ParseBytesOptions): ParsedDicom {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const fileSize = opts.fileSize ?? bytes.length;
  const partial = bytes.length < fileSize;
  if (fileSize === 0) throw notDicom('the file is empty');

  const archive = sniffNonDicom(bytes);
  if (archive) throw archive;

  const part10 = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  let rawTs: string | null = null;
  if (!part10) {
    if (fileSize < 132 && partial) throw new NeedMoreBytes();
    rawTs = sniffRawDataSet(bytes);
    if (!rawTs) {
      if (fileSize < 132) throw notDicom(`it is only ${fileSize} bytes long and does not start like a DICOM data set`);
      throw notDicom('it has no "DICM" marker at byte 128 and does not start like a DICOM data set');
    }
  }

  let tsUid = rawTs;
  let implicitFallback = false;
  let dataSet: DataSet;
  const until = opts.headerOnly ? PIXEL_DATA_TAG : undefined;
  if (part10) {
    // Read the meta header first: the transfer syntax decides what follows.
    let meta: DataSet & { position: number };
    try {
      meta = dicomParser.readPart10Header(bytes as never) as unknown as DataSet & { position: number };
    } catch (err) {
      const msg = messageOf(err);
      if (isOutOfBytes(msg)) {
        if (partial) throw new NeedMoreBytes();
        throw new DicomFileError('TRUNCATED', ErrorCode.Truncated, 'The file ends inside its file meta information header (truncated).');
      }
      throw new DicomFileError('MALFORMED', ErrorCode.Malformed, `The file meta information header cannot be read: ${describeParserFailure(msg)}.`);
    }
    const start = meta.position;
    const groupLength = meta.elements.x00020000 ? meta.uint32('x00020000') : undefined;
    if (groupLength !== undefined && 144 + groupLength > bytes.length) {
      if (partial) throw new NeedMoreBytes();
      throw new DicomFileError('TRUNCATED', ErrorCode.Truncated, 'The file ends inside its file meta information header (truncated).', 'Copy the file again from its source; the copy is incomplete.');
    }
    tsUid = meta.elements.x00020010 ? (meta.string('x00020010') ?? '').replace(/\0/g, '').trim() : '';
    let bodyTs = tsUid;
    if (!tsUid) {
      const guessed = guessMissingTransferSyntax(bytes);
      if (!guessed) {
        if (partial) throw new NeedMoreBytes();
        throw new DicomFileError('MALFORMED', ErrorCode.Malformed, 'The file meta information has no transfer syntax (0002,0010) and no data set follows it.');
      }
      tsUid = bodyTs = guessed;
    } else if (!isKnownTransferSyntax(tsUid)) {
      throw new DicomFileError(
        'UNSUPPORTED_TRANSFER_SYNTAX',
        ErrorCode.UnsupportedTransferSyntax,
        `The transfer syntax ${tsUid} is not one this app knows, so the file cannot be read.`,
        'Convert the file to a standard transfer syntax (e.g. with dcmconv +te) and import it again.',
      );
    }
    if (tsUid === DEFLATED && partial) throw new NeedMoreBytes();
    let body: Uint8Array = bytes;
    if (tsUid === DEFLATED) {
      body = inflaterWithCap(limits.maxInflatedBytes)(bytes, start);
      bodyTs = EXPLICIT_LE;
    } else if (
      bodyTs !== IMPLICIT_LE &&
      bodyTs !== EXPLICIT_BE &&
      start + 6 <= bytes.length &&
      !VRS.has(String.fromCharCode(bytes[start + 4]!, bytes[start + 5]!))
    ) {
      // Like pydicom: a data set written implicit although the meta header says explicit is read as implicit.
      bodyTs = IMPLICIT_LE;
      implicitFallback = true;
    }
    const parser = bodyTs === EXPLICIT_BE ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
    const DataSetCtor = (dicomParser as unknown as { DataSet: new (p: unknown, b: Uint8Array, e: Record<string, Element>) => DataSet }).DataSet;
    dataSet = new DataSetCtor(parser, body, {});
    dataSet.warnings = [];
    try {
      if (start < body.length) {
        const stream = new dicomParser.ByteStream(parser, body as never, start);
        stream.warnings = dataSet.warnings;
        if (bodyTs === IMPLICIT_LE) dicomParser.parseDicomDataSetImplicit(dataSet, stream, body.length, until ? { untilTag: until } : undefined as never);
        else dicomParser.parseDicomDataSetExplicit(dataSet, stream, body.length, until ? { untilTag: until } : undefined as never);
      }
    } catch (err) {
      throw classifyParseFailure(err, dataSet, partial, true, fileSize);
    }
    for (const [k, v] of Object.entries(meta.elements)) dataSet.elements[k] = v;
  } else {
    try {
      dataSet = dicomParser.parseDicom(bytes as never, { TransferSyntaxUID: rawTs, ...(until ? { untilTag: until } : {}) } as never) as unknown as DataSet;
    } catch (err) {
      throw classifyParseFailure(err, (err as { dataSet?: DataSet }).dataSet, partial, false, fileSize);
    }
  }

  delete dataSet.elements.x00000000; // trailing zero padding reads as an empty (0000,0000) element
  if (implicitFallback) dataSet.warnings = [...(dataSet.warnings ?? []), 'the data set is encoded as implicit VR although its transfer syntax says explicit VR'];
  const explicit = tsUid !== IMPLICIT_LE && !implicitFallback;
  const limitBytes = dataSet.byteArray.length;
  const { over, badVr } = checkElements(dataSet, limitBytes, explicit);
  if (over) {
    if (partial) throw new NeedMoreBytes();
    const el = over.element;
    const deflated = tsUid === DEFLATED;
    const fileLimit = deflated ? limitBytes : fileSize;
    if (impossibleLength(el.length, fileLimit)) {
      throw new DicomFileError(
        'MALFORMED',
        ErrorCode.Malformed,
        `Element ${tagLabel(el.tag)} declares an impossible length of ${el.length} bytes in a ${fileLimit}-byte file.`,
      );
    }
    if (el.length % 2 === 1) {
      throw new DicomFileError(
        'MALFORMED',
        ErrorCode.Malformed,
        `Element ${tagLabel(el.tag)} declares an odd length (${el.length} bytes) that runs past the end of the file; DICOM values always have even lengths, so the data set is malformed.`,
      );
    }
    throw new DicomFileError(
      'TRUNCATED',
      ErrorCode.Truncated,
      `The file ends in the middle of element ${tagLabel(el.tag)}: ${el.length} bytes declared, ${Math.max(0, fileLimit - el.dataOffset)} present (truncated).`,
      'Copy the file again from its source; the copy is incomplete.',
    );
  }
  if (badVr) throw new DicomFileError('MALFORMED', ErrorCode.Malformed, `The data set is malformed: ${badVr}.`);

  // Pixel Data must fit in the file (checked without reading it).
  const px = dataSet.elements[PIXEL_DATA_TAG];
  const headerOnly = Boolean(opts.headerOnly && px);
  if (px && !px.hadUndefinedLength && px.length !== 0xffffffff) {
    const limit = tsUid === DEFLATED ? limitBytes : fileSize;
    if (impossibleLength(px.length, limit)) {
      throw new DicomFileError('MALFORMED', ErrorCode.Malformed, `Pixel Data (7FE0,0010) declares an impossible length of ${px.length} bytes in a ${limit}-byte file.`);
    }
    if (px.dataOffset + px.length > limit) {
      throw new DicomFileError(
        'TRUNCATED',
        ErrorCode.Truncated,
        `The file ends inside its pixel data (7FE0,0010): ${px.length} bytes declared, ${Math.max(0, limit - px.dataOffset)} present (truncated).`,
        'Copy the file again from its source; the copy is incomplete.',
      );
    }
  } else if (px && px.hadUndefinedLength && !opts.headerOnly) {
    // Encapsulated: dicom-parser warns when the sequence delimiter is missing, i.e. the file was cut short.
    const cut = (dataSet.warnings ?? []).find((w) => /missing sequence delimiter/.test(w));
    if (cut) {
      throw new DicomFileError('TRUNCATED', ErrorCode.Truncated, 'The file ends inside its compressed pixel data (no sequence delimiter): it is truncated.');
    }
  }

  if (Object.keys(dataSet.elements).filter((k) => !k.startsWith('x0002')).length === 0) {
    if (partial) throw new NeedMoreBytes();
    throw notDicom('it has a DICOM file header but no data set');
  }
  const sopClass = (dataSet.string('x00020002') ?? dataSet.string('x00080016') ?? '').trim();
  const isDicomdir = sopClass === DICOMDIR_SOP_CLASS || Boolean(dataSet.elements.x00041220);
  // A header-only parse that never reached Pixel Data may have stopped at the end of the prefix.
  if (partial && !px) throw new NeedMoreBytes();
  return {
    dataSet,
    transferSyntaxUid: tsUid ?? EXPLICIT_LE,
    part10,
    headerOnly,
    fileSize,
    isDicomdir,
    warnings: [...(dataSet.warnings ?? [])],
  };
}

function ioError(path: string, err: unknown): DicomFileError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'it does not exist (any more)'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a folder'
    : code ?? messageOf(err);
  return new DicomFileError('UNREADABLE', ErrorCode.Unreadable, `The file cannot be read: ${why}.`, `Check that ${path} exists and that you may read it.`);
}

export interface ReadFileOptions {
  headerOnly?: boolean;
  /** Also compute the SHA-256 of the whole file (streamed past the header when the file is large). */
  hash?: boolean;
  limits?: Partial<ReadLimits>;
}

export interface ReadFileResult extends ParsedDicom {
  /** Hex SHA-256 of the file bytes (when asked for). */
  sha256: string | null;
  mtimeMs: number;
}

/**
 * Reads a DICOM file. Small files are read in one go; large ones are read in growing chunks
 * until the header is parsed (and hashed by streaming when `hash` is set).
 */
export async function readDicomFile(path: string, opts: ReadFileOptions = {}): Promise<ReadFileResult> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
  return readWith(
    {
      stat: async () => {
        const st = await fh.stat();
        return { size: st.size, mtimeMs: st.mtimeMs, isFile: st.isFile() };
      },
      read: async (buf, off, len, pos) => (await fh.read(buf, off, len, pos)).bytesRead,
      close: () => fh.close().catch(() => undefined),
    },
    path,
    opts,
  );
}

/**
 * The same with synchronous I/O: for worker threads, where blocking is free and the thread-pool
 * round trips of async I/O would dominate the cost of reading a header.
 */
export async function readDicomFileSync(path: string, opts: ReadFileOptions = {}): Promise<ReadFileResult> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ioError(path, err);
  }
  return readWith(
    {
      stat: () => {
        const st = fstatSync(fd);
        return { size: st.size, mtimeMs: st.mtimeMs, isFile: st.isFile() };
      },
      read: (buf, off, len, pos) => readSync(fd, buf, off, len, pos),
      close: () => closeSync(fd),
    },
    path,
    opts,
  );
}

interface FileIo {
  stat(): { size: number; mtimeMs: number; isFile: boolean } | Promise<{ size: number; mtimeMs: number; isFile: boolean }>;
  read(buf: Buffer, off: number, len: number, pos: number): number | Promise<number>;
  close(): unknown;
}

async function readWith(io: FileIo, path: string, opts: ReadFileOptions): Promise<ReadFileResult> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  try {
    let st;
    try {
      st = await io.stat();
    } catch (err) {
      throw ioError(path, err);
    }
    if (!st.isFile) throw ioError(path, Object.assign(new Error('not a file'), { code: 'EISDIR' }));
    const size = st.size;
    // Header-only reads without a hash read a prefix (64 KB, growing as needed) unless the file is small.
    const wholeLimit = opts.headerOnly ? (opts.hash ? Math.min(limits.maxWholeFileBytes, 32 * 1024 * 1024) : 64 * 1024) : limits.maxWholeFileBytes;
    if (!opts.headerOnly && size > limits.maxWholeFileBytes) {
      throw new DicomFileError('TOO_LARGE', ErrorCode.Unreadable, `The file is ${Math.round(size / 1048576)} MB, above the ${Math.round(limits.maxWholeFileBytes / 1048576)} MB limit for reading it whole.`);
    }
    const readRange = async (start: number, length: number): Promise<Uint8Array> => {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const bytesRead = await io.read(buf, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    };
    let bytes: Uint8Array;
    let parsed: ParsedDicom | null = null;
    if (size <= wholeLimit) {
      try {
        bytes = await readRange(0, size);
      } catch (err) {
        throw ioError(path, err);
      }
      parsed = parseDicomBytes(bytes, { headerOnly: opts.headerOnly, fileSize: bytes.length, limits });
    } else {
      let n = opts.hash ? 1024 * 1024 : 64 * 1024;
      for (;;) {
        n = Math.min(n, size);
        try {
          bytes = await readRange(0, n);
        } catch (err) {
          throw ioError(path, err);
        }
        try {
          parsed = parseDicomBytes(bytes, { headerOnly: opts.headerOnly ?? true, fileSize: size, limits });
          break;
        } catch (err) {
          if (!(err instanceof NeedMoreBytes)) throw err;
          if (n >= size) throw new DicomFileError('TRUNCATED', ErrorCode.Truncated, 'The file ends in the middle of its data: it is truncated.');
          if (n >= limits.maxHeaderBytes) {
            throw new DicomFileError('TOO_LARGE', ErrorCode.Malformed, `The DICOM header is larger than ${Math.round(limits.maxHeaderBytes / 1048576)} MB; it was not read.`);
          }
          n *= 4;
        }
      }
    }
    let sha256: string | null = null;
    if (opts.hash) {
      const h = createHash('sha256');
      if (bytes.length === size) h.update(bytes);
      else {
        const chunk = 4 * 1024 * 1024;
        for (let pos = 0; pos < size; pos += chunk) h.update(await readRange(pos, Math.min(chunk, size - pos)));
      }
      sha256 = h.digest('hex');
    }
    return { ...parsed, sha256, mtimeMs: st.mtimeMs };
  } finally {
    await io.close();
  }
}

/** Size and modification time, or an UNREADABLE error. */
export async function statFile(path: string): Promise<{ size: number; mtimeMs: number; isFile: boolean; isDirectory: boolean }> {
  try {
    const s = await stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
  } catch (err) {
    throw ioError(path, err);
  }
}
