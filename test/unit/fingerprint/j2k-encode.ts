/**
 * Makes JPEG 2000 lossless (1.2.840.10008.1.2.4.90) copies of native single-frame DICOM files for
 * tests and the benchmark, since Debian's dcmtk has no dcmcjp2k: the pixels are encoded with
 * OpenJPEG's reversible 5/3 wavelet (@cornerstonejs/codec-openjpeg's encoder) and the file is
 * written by dcmjs. Everything else in the data set is kept.
 */
import { createRequire } from 'node:module';
import dcmjs from 'dcmjs';

const require = createRequire(import.meta.url);
interface Encoder {
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean; isUsingColorSpace: boolean }): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  setQuality(lossless: boolean, quality: number): void;
  encode(): void;
  delete(): void;
}
let codec: Promise<{ J2KEncoder: new () => Encoder }> | null = null;

const { DicomMessage } = (dcmjs as unknown as {
  data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: Record<string, { vr: string; Value: unknown[] }>; meta: Record<string, { vr: string; Value: unknown[] }>; write(): ArrayBuffer } } };
}).data;

export async function encodeJ2kLossless(file: Uint8Array): Promise<Uint8Array> {
  codec ??= (require('@cornerstonejs/codec-openjpeg/wasmjs') as (o?: object) => Promise<{ J2KEncoder: new () => Encoder }>)({ print: () => {}, printErr: () => {} });
  const m = await codec;
  const msg = DicomMessage.readFile(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer);
  const v = (tag: string) => msg.dict[tag]!.Value[0] as number;
  const rows = v('00280010');
  const cols = v('00280011');
  const bits = v('00280100');
  const spp = v('00280002');
  const signed = v('00280103') === 1;
  const px = msg.dict['7FE00010']!.Value[0] as ArrayBuffer;
  const enc = new m.J2KEncoder();
  try {
    const buf = enc.getDecodedBuffer({ width: cols, height: rows, bitsPerSample: bits, componentCount: spp, isSigned: signed, isUsingColorSpace: false });
    buf.set(new Uint8Array(px, 0, (rows * cols * spp * bits) / 8));
    enc.setQuality(true, 0);
    enc.encode();
    const j2k = new Uint8Array(enc.getEncodedBuffer());
    const padded = new Uint8Array(j2k.length + (j2k.length % 2));
    padded.set(j2k);
    msg.meta['00020010'] = { vr: 'UI', Value: ['1.2.840.10008.1.2.4.90'] };
    msg.dict['7FE00010'] = { vr: 'OB', Value: [padded.buffer] };
    return new Uint8Array(msg.write());
  } finally {
    enc.delete();
  }
}
