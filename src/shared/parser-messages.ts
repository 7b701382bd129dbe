/**
 * The words of DICOM for what a parser library or the runtime says when a file's structure is damaged. A clinician or
 * an administrator reads these in the import report, the study browser and the CLI: "dicomParser.readSequenceItem:
 * item tag (FFFE,E000) not found at offset 902" tells them nothing; "a sequence item does not start where one must"
 * does. Every message of dicom-parser that a damaged file can reach has a line here (the fuzz harness finds new ones).
 */
const RULES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/item tag \(FFFE,E000\) not found at offset (\d+)/i, (m) => `a sequence item does not start where one must (byte ${m[1]}): the length of a sequence or of one of its items is damaged`],
  [/basic offset table not found|missing basic offset table/i, () => 'the encapsulated (compressed) Pixel Data does not begin with its Basic Offset Table item'],
  [/could not find fragment with offset matching|unable to find fragment that matches basic offset table/i, () => 'the Basic Offset Table of the compressed Pixel Data points at no fragment: the frame boundaries are damaged'],
  [/basicOffsetTable has zero entries/i, () => 'the compressed Pixel Data has no frame offsets for a multi-frame image'],
  [/frameIndex' must be <|startFragmentIndex' must be <|'numFragments' <|'numFragments' must be > 0/i, () => 'the compressed Pixel Data holds fewer frames than Number of Frames (0028,0008) says'],
  [/fragments' must not be zero length|does not have fragments/i, () => 'the compressed Pixel Data holds no fragments (no image)'],
  [/does not have encapsulated pixel data|does not have undefined length/i, () => 'Pixel Data (7FE0,0010) is declared compressed by the transfer syntax but is not stored as encapsulated fragments'],
  [/length cannot be less than 0/i, () => 'an element declares a negative length'],
  [/DICM prefix not found/i, () => 'the "DICM" marker of a DICOM Part-10 file is missing at byte 128'],
  [/missing required meta header attribute 0002,0010/i, () => 'the file meta information has no Transfer Syntax UID (0002,0010)'],
  [/no inflater available/i, () => 'the deflated data set cannot be inflated'],
  [/seek to position < 0|position' cannot be less than 0/i, () => "an element's length points before the start of the file"],
  [/isPrivateTag/i, () => "an element's tag is unreadable"],
  [/explicitElementToString|cannot convert implicit element/i, () => 'an element cannot be read as text'],
  [/Maximum call stack size exceeded/i, () => 'sequences are nested too deeply to read'],
  [/Invalid typed array length|Array buffer allocation failed|out of memory/i, () => 'an element declares a length larger than the file can hold'],
  [/offset is out of bounds|out of range|overread|overrun|past end/i, () => 'an element runs past the end of its sequence item or of the file'],
];

/** What a damaged file's structure failure means, in DICOM terms (never a library's function names). */
export function describeParserFailure(raw: string): string {
  for (const [re, say] of RULES) {
    const m = raw.match(re);
    if (m) return say(m);
  }
  // Anything else from the parser or the runtime: say what kind of damage it is, not how the library noticed it.
  return 'its element structure cannot be read (a length, tag or value representation is damaged)';
}

/** True when a message carries a library's or the runtime's own words (a function name, a JS error). */
export function isLibraryMessage(raw: string): boolean {
  return /dicomParser|TypeError|RangeError|Cannot read propert|undefined|is not a function|Maximum call stack|typed array/i.test(raw);
}

/** A codec's failure on one frame, in DICOM terms: which compression, and that its codestream is damaged. */
export function describeCodecFailure(transferSyntaxUid: string, raw: string): string {
  const kind = codecName(transferSyntaxUid);
  if (isLibraryMessage(raw) || /charls|openjpeg|jpeg|huffman|marker|codestream|decode|SOI|EOI|rle|segment|header/i.test(raw))
    return `the ${kind} data is damaged and cannot be decoded`;
  return `the ${kind} data cannot be decoded (${raw.replace(/[^\x20-\x7e]/g, '?').slice(0, 120)})`;
}

function codecName(ts: string): string {
  if (ts === '1.2.840.10008.1.2.5') return 'RLE Lossless';
  if (ts === '1.2.840.10008.1.2.4.80' || ts === '1.2.840.10008.1.2.4.81') return 'JPEG-LS';
  if (ts.startsWith('1.2.840.10008.1.2.4.9')) return 'JPEG 2000';
  if (ts === '1.2.840.10008.1.2.4.57' || ts === '1.2.840.10008.1.2.4.70') return 'JPEG Lossless';
  if (ts.startsWith('1.2.840.10008.1.2.4.')) return 'JPEG';
  return 'compressed pixel';
}
