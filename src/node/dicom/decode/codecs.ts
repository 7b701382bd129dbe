/**
 * The wasm codecs cornerstone-wado-image-loader uses (CharLS, OpenJPEG, libjpeg-turbo), loaded in
 * Node once per thread, plus the pure-JS JPEG lossless decoder. Each returns the decoded samples
 * as little-endian bytes (a copy, never a view into the wasm heap).
 */
import { createRequire } from 'node:module';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';

const require = createRequire(import.meta.url);

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}
interface CodecModule {
  JpegLSDecoder?: new () => WasmDecoder;
  J2KDecoder?: new () => WasmDecoder;
  JPEGDecoder?: new () => WasmDecoder;
}

export interface CodecOutput {
  bytes: Uint8Array;
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  /** Samples of a pixel are stored plane by plane (JPEG-LS interleave mode "none"). */
  planar: boolean;
}

const modules = new Map<string, Promise<CodecModule>>();

function load(spec: string): Promise<CodecModule> {
  let m = modules.get(spec);
  if (!m) {
    // Emscripten factories: calling one compiles the wasm next to the glue file.
    const factory = require(spec) as (opts?: object) => Promise<CodecModule>;
    m = factory({ print: () => {}, printErr: () => {} });
    modules.set(spec, m);
  }
  return m;
}

async function runWasm(spec: string, make: (m: CodecModule) => WasmDecoder, data: Uint8Array, interleaveQuery = false): Promise<CodecOutput> {
  const m = await load(spec);
  const dec = make(m);
  try {
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    const info = dec.getFrameInfo();
    const bytes = new Uint8Array(dec.getDecodedBuffer());
    const planar = interleaveQuery && info.componentCount > 1 && dec.getInterleaveMode?.() === 0;
    return { bytes, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample, components: info.componentCount, planar };
  } finally {
    dec.delete();
  }
}

export function decodeJpegLs(data: Uint8Array): Promise<CodecOutput> {
  return runWasm('@cornerstonejs/codec-charls/decodewasmjs', (m) => new m.JpegLSDecoder!(), data, true);
}

export function decodeJpeg2000(data: Uint8Array): Promise<CodecOutput> {
  return runWasm('@cornerstonejs/codec-openjpeg/decodewasmjs', (m) => new m.J2KDecoder!(), data);
}

export function decodeJpegBaseline(data: Uint8Array): Promise<CodecOutput> {
  return runWasm('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', (m) => new m.JPEGDecoder!(), data);
}

/** JPEG lossless (processes 14 / 14 SV1). `bytesPerSample` from Bits Allocated. */
export function decodeJpegLossless(data: Uint8Array, bytesPerSample: number): CodecOutput {
  const dec = new JpegLosslessDecoder();
  // jpeg-lossless-decoder-js 2.1.2 loses the last sample when the final Huffman code ends right
  // before the EOI marker (it stops at the marker while filling its bit buffer). Two zero bytes
  // of entropy-coded padding before EOI are never decoded (decoding stops at the last pixel) and
  // avoid it. Measured on dcmcjpeg +el output of a 512×512 signed CT slice.
  let end = data.length;
  while (end >= 2 && !(data[end - 2] === 0xff && data[end - 1] === 0xd9)) end--;
  let copy: Uint8Array;
  if (end >= 2) {
    copy = new Uint8Array(end + 2);
    copy.set(data.subarray(0, end - 2));
    copy[end] = 0xff;
    copy[end + 1] = 0xd9;
  } else {
    copy = new Uint8Array(data); // a real copy (Buffer#slice would be a view)
  }
  const out = dec.decode(copy.buffer, 0, copy.length, bytesPerSample) as ArrayBufferView | ArrayBuffer;
  const bytes = out instanceof ArrayBuffer ? new Uint8Array(out) : new Uint8Array(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  const d = dec as unknown as { xDim: number; yDim: number; precision?: number; numComp: number };
  return {
    bytes,
    width: d.xDim,
    height: d.yDim,
    bitsPerSample: d.precision ?? bytesPerSample * 8,
    components: d.numComp,
    planar: false,
  };
}
