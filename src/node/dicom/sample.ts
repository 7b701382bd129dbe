/**
 * Synthetic sample series (clearly marked: PatientName SYNTHETIC^PHANTOM, SeriesDescription and
 * ImageComments "SYNTHETIC — not a patient", BurnedInAnnotation NO) for the demo, tests and benchmarks.
 *
 * dcmjs writes one valid Part-10 file as a template (every attribute, fixed-width placeholders
 * for the per-slice values); each slice is that header with SOP Instance UID, Instance Number,
 * Image Position (Patient) and Slice Location patched in place, followed by its own pixels. So
 * 1,000 slices take seconds, not minutes, and every file is still dcmjs's encoding.
 *
 * CT: 512×512, signed 16-bit, stored = HU + 1024 with RescaleIntercept -1024, an axial chest-like
 * phantom (body with fat rim, lungs, ribs ring, spine, heart, aorta, slight noise) stepping along z.
 * MR: 256×256 unsigned 16-bit head-like phantom (scalp, skull, brain, ventricles).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { mulberry32 } from '../../core/prng';

export interface SampleOptions {
  outDir: string;
  slices: number;
  kind: 'ct' | 'mr';
  seed?: number;
  /** Rows = Columns of each slice (default 512 for CT, 256 for MR; same field of view): small slices for scale runs. */
  matrix?: number;
}

export interface SampleResult {
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

export const SYNTHETIC_LABEL = 'SYNTHETIC — not a patient';

const { DicomDict, DicomMetaDictionary } = (dcmjs as unknown as {
  data: { DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer }; DicomMetaDictionary: { denaturalizeDataset(d: unknown): unknown } };
}).data;

/** A UID under 2.25 (UUID-derived) made from a seed and a purpose, deterministic. */
function uid(seed: number, purpose: string): string {
  const h = createHash('sha256').update(`medimgshr-sample:${seed}:${purpose}`).digest();
  const n = BigInt('0x' + h.subarray(0, 15).toString('hex')); // < 2^120: ≤ 37 digits
  return `2.25.${n.toString()}`;
}

const fixed = (v: number, width: number): string => {
  const s = v.toFixed(3);
  if (s.length > width) throw new Error(`value ${v} does not fit in ${width} characters`);
  return s.padStart(width, ' ');
};

interface Geometry {
  rows: number;
  cols: number;
  spacing: number;
  thickness: number;
}

const NOISE_BITS = 18;
/** A table of approximately normal noise (σ = 1) read from a random offset per slice: cheap per pixel. */
function noiseTable(rnd: () => number): Float32Array {
  const t = new Float32Array(1 << NOISE_BITS);
  for (let i = 0; i < t.length; i++) t[i] = (rnd() + rnd() + rnd() + rnd() - 2) * 1.732;
  return t;
}

/** CT phantom slice in HU, as stored values (HU + 1024) into `out`. */
function ctSlice(out: Int16Array, g: Geometry, zmm: number, zSpan: number, rnd: () => number, noise: Float32Array): void {
  const mask = noise.length - 1;
  let k = Math.floor(rnd() * noise.length);
  const { rows, cols, spacing } = g;
  const t = zSpan > 0 ? Math.min(1, Math.max(0, zmm / zSpan)) : 0.5; // 0 = bottom (abdomen), 1 = top (apex)
  // Lungs appear above ~35 % of the range and taper towards the apex.
  const lungScale = t < 0.35 ? 0 : Math.sin(Math.min(1, (t - 0.35) / 0.6) * Math.PI * 0.9);
  const heart = t > 0.3 && t < 0.7 ? Math.sin(((t - 0.3) / 0.4) * Math.PI) : 0;
  const liver = t < 0.45 ? Math.cos((t / 0.45) * Math.PI * 0.5) : 0;
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  for (let r = 0; r < rows; r++) {
    const y = (r - cy) * spacing; // mm, + = posterior
    for (let c = 0; c < cols; c++) {
      const x = (c - cx) * spacing; // mm, + = patient left
      let hu = -1000;
      const body = (x / 160) ** 2 + ((y - 5) / 115) ** 2;
      if (body <= 1) {
        hu = body > 0.88 ? -100 : 40; // fat rim, soft tissue
        // ribs: an elliptical bone ring inside the fat rim, broken into ribs
        const ring = (x / 145) ** 2 + ((y - 5) / 102) ** 2;
        if (t > 0.3 && ring > 0.9 && ring < 1.0 && Math.sin(Math.atan2(y, x) * 9) > 0.1) hu = 700;
        if (lungScale > 0) {
          const ly = (y + 5) / (78 * lungScale + 1);
          const lxr = (x - 72) / (48 * lungScale + 1);
          const lxl = (x + 72) / (48 * lungScale + 1);
          if (lxr * lxr + ly * ly <= 1 || lxl * lxl + ly * ly <= 1) hu = -850 + 40 * Math.sin(x * 0.3) * Math.sin(y * 0.3);
        }
        if (heart > 0) {
          const h = ((x - 22) / (48 * heart + 1)) ** 2 + ((y + 18) / (42 * heart + 1)) ** 2;
          if (h <= 1) hu = h < 0.35 ? 160 : 45; // contrast-filled chamber, myocardium
        }
        if (liver > 0) {
          const l = ((x + 55) / (85 * liver + 1)) ** 2 + ((y + 5) / (70 * liver + 1)) ** 2;
          if (l <= 1) hu = 60;
        }
        // aorta (descending), spine: vertebral body with cortex, spinal canal
        if ((x + 14) ** 2 + (y - 48) ** 2 <= 12 ** 2) hu = 180;
        const v = x * x + (y - 78) ** 2;
        if (v <= 19 ** 2) hu = v >= 16 ** 2 ? 1100 : 300;
        if (x * x + (y - 104) ** 2 <= 7 ** 2) hu = 10;
        if (Math.abs(x) < 5 && y > 96 && y < 114 && x * x + (y - 104) ** 2 > 7 ** 2) hu = 900;
      } else if (y > 128 && y < 138 && Math.abs(x) < 175) {
        hu = 80; // scanner table
      }
      if (hu > -1000) hu += noise[k++ & mask]! * 8; // noise, σ ≈ 8 HU
      out[r * cols + c] = Math.round(hu) + 1024;
    }
  }
}

/** MR head phantom slice (arbitrary units) into `out`. */
function mrSlice(out: Uint16Array, g: Geometry, zmm: number, zSpan: number, rnd: () => number, noise: Float32Array): void {
  const mask = noise.length - 1;
  let k = Math.floor(rnd() * noise.length);
  const { rows, cols, spacing } = g;
  const t = zSpan > 0 ? Math.min(1, Math.max(0, zmm / zSpan)) : 0.5;
  const s = Math.sqrt(Math.max(0.05, 1 - (2 * t - 1) ** 2)); // head tapers at the ends
  const cx = (cols - 1) / 2;
  const cy = (rows - 1) / 2;
  for (let r = 0; r < rows; r++) {
    const y = (r - cy) * spacing;
    for (let c = 0; c < cols; c++) {
      const x = (c - cx) * spacing;
      let v = 0;
      const head = (x / (75 * s + 1)) ** 2 + (y / (92 * s + 1)) ** 2;
      if (head <= 1) {
        v = head > 0.9 ? 850 : head > 0.8 ? 60 : head > 0.75 ? 400 : 620; // scalp fat, skull, CSF rim, brain
        if (head <= 0.75) {
          const gm = Math.sin(x * 0.25) * Math.cos(y * 0.2);
          v = gm > 0.55 ? 520 : 680; // grey/white matter pattern
          const vent = ((Math.abs(x) - 9) / (6 * s + 1)) ** 2 + ((y + 5) / (22 * s + 1)) ** 2;
          if (s > 0.5 && vent <= 1) v = 180;
        }
        v += noise[k++ & mask]! * 10;
      } else v = Math.abs(noise[k++ & mask]!) * 5;
      out[r * cols + c] = Math.max(0, Math.round(v));
    }
  }
}

/**
 * Writes `slices` synthetic files `IM00001.dcm …` into `outDir` (created if needed).
 * Same seed → same UIDs and pixels.
 */
export async function writeSampleSeries(opts: SampleOptions): Promise<SampleResult> {
  const { outDir, kind } = opts;
  const slices = Math.floor(opts.slices);
  if (!(slices >= 1 && slices <= 100_000)) throw new Error('slices must be between 1 and 100000');
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  await mkdir(outDir, { recursive: true });
  const ct = kind === 'ct';
  const base: Geometry = ct ? { rows: 512, cols: 512, spacing: 0.703125, thickness: 1.25 } : { rows: 256, cols: 256, spacing: 0.9375, thickness: 5 };
  const m = opts.matrix ? Math.max(16, Math.min(1024, Math.floor(opts.matrix))) : base.rows;
  const g: Geometry = { ...base, rows: m, cols: m, spacing: (base.spacing * base.rows) / m };
  const studyUid = uid(seed, `${kind}:study`);
  const seriesUid = uid(seed, `${kind}:series`);
  const frameOfRef = uid(seed, `${kind}:frame`);
  const sopPlaceholder = `${seriesUid}.9999999`;
  const sopClass = ct ? '1.2.840.10008.5.1.4.1.1.2' : '1.2.840.10008.5.1.4.1.1.4';
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const time = now.toISOString().slice(11, 19).replace(/:/g, '');
  const pixelBytes = g.rows * g.cols * 2;
  const originX = -((g.cols - 1) / 2) * g.spacing;
  const originY = -((g.rows - 1) / 2) * g.spacing;
  const z0 = ct ? -(slices - 1) * g.thickness : -((slices - 1) * g.thickness) / 2;

  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopPlaceholder,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.268425516463212871345871235187123560199',
    ImplementationVersionName: 'MEDIMGSHR_SAMPLE',
  };
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['ORIGINAL', 'PRIMARY', ct ? 'AXIAL' : 'OTHER'],
    SOPClassUID: sopClass,
    SOPInstanceUID: sopPlaceholder,
    StudyDate: date,
    SeriesDate: date,
    ContentDate: date,
    StudyTime: time,
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: `SYN${String(seed % 1_000_000).padStart(6, '0')}`,
    Modality: ct ? 'CT' : 'MR',
    Manufacturer: 'MedImgShr sample generator',
    InstitutionName: 'SYNTHETIC',
    ReferringPhysicianName: '',
    StudyDescription: ct ? `${SYNTHETIC_LABEL} (CT chest phantom)` : `${SYNTHETIC_LABEL} (MR head phantom)`,
    SeriesDescription: SYNTHETIC_LABEL,
    ManufacturerModelName: 'phantom',
    PatientName: 'SYNTHETIC^PHANTOM',
    PatientID: `SYNTH-${String(seed % 100_000).padStart(5, '0')}`,
    PatientBirthDate: '19700101',
    PatientSex: 'O',
    PatientIdentityRemoved: 'YES',
    // Type 1C when Patient Identity Removed is YES: a synthetic phantom never held patient data.
    DeidentificationMethod: 'Synthetic phantom generated by MedImgShr: no patient data',
    DeidentificationMethodCodeSequence: [{ CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' }],
    BodyPartExamined: ct ? 'CHEST' : 'HEAD',
    SliceThickness: String(g.thickness),
    ...(ct
      ? { KVP: '120', ConvolutionKernel: 'STANDARD', PatientPosition: 'HFS' }
      : { ScanningSequence: 'SE', SequenceVariant: 'NONE', ScanOptions: '', MRAcquisitionType: '2D', RepetitionTime: '500', EchoTime: '15', EchoTrainLength: '1', MagneticFieldStrength: '1.5', PatientPosition: 'HFS' }),
    StudyInstanceUID: studyUid,
    SeriesInstanceUID: seriesUid,
    StudyID: '1',
    SeriesNumber: ct ? '2' : '3',
    InstanceNumber: '987654',
    AcquisitionNumber: '1', // Type 2 in the CT Image module
    ImagePositionPatient: ['    -111.111', '    -222.222', '    -333.333'],
    ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
    FrameOfReferenceUID: frameOfRef,
    PositionReferenceIndicator: '',
    SliceLocation: '    -444.444',
    ImageComments: SYNTHETIC_LABEL,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: g.rows,
    Columns: g.cols,
    PixelSpacing: [String(g.spacing), String(g.spacing)],
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: ct ? 1 : 0,
    BurnedInAnnotation: 'NO',
    ...(ct
      ? { WindowCenter: ['40', '-600'], WindowWidth: ['400', '1500'], WindowCenterWidthExplanation: ['SOFT TISSUE', 'LUNG'], RescaleIntercept: '-1024', RescaleSlope: '1', RescaleType: 'HU' }
      : { WindowCenter: '500', WindowWidth: '1000' }),
    PixelData: [new ArrayBuffer(pixelBytes)],
    _vrMap: { PixelData: 'OW' },
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  const template = Buffer.from(dict.write());
  const headerLen = template.length - pixelBytes;
  const find = (s: string): number[] => {
    const out: number[] = [];
    for (let i = template.indexOf(s, 0, 'latin1'); i >= 0 && i < headerLen; i = template.indexOf(s, i + 1, 'latin1')) out.push(i);
    if (out.length === 0) throw new Error(`sample template: placeholder ${s} not found`);
    return out;
  };
  const at = {
    sop: find(sopPlaceholder),
    number: find('987654'),
    position: find('    -111.111\\    -222.222\\    -333.333'),
    location: find('    -444.444'),
  };

  const rnd = mulberry32(seed);
  const noise = noiseTable(rnd);
  const files: string[] = [];
  const zSpan = (slices - 1) * g.thickness;
  const width = String(slices).length > 5 ? String(slices).length : 5;
  const pixels = ct ? new Int16Array(g.rows * g.cols) : new Uint16Array(g.rows * g.cols);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < slices; i++) {
    const z = z0 + i * g.thickness;
    if (ct) ctSlice(pixels as Int16Array, g, z - z0, zSpan, rnd, noise);
    else mrSlice(pixels as Uint16Array, g, z - z0, zSpan, rnd, noise);
    const buf = Buffer.allocUnsafe(template.length);
    template.copy(buf, 0, 0, headerLen);
    const sop = `${seriesUid}.${1_000_001 + i}`;
    for (const p of at.sop) buf.write(sop, p, 'latin1');
    for (const p of at.number) buf.write(String(i + 1).padEnd(6, ' '), p, 'latin1');
    for (const p of at.position) buf.write(`${fixed(originX, 12)}\\${fixed(originY, 12)}\\${fixed(z, 12)}`, p, 'latin1');
    for (const p of at.location) buf.write(fixed(z, 12), p, 'latin1');
    Buffer.from(pixels.buffer, pixels.byteOffset, pixelBytes).copy(buf, headerLen);
    const file = join(outDir, `IM${String(i + 1).padStart(width, '0')}.dcm`);
    files.push(file);
    writes.push(writeFile(file, buf));
    if (writes.length >= 16) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return { files, studyInstanceUid: studyUid, seriesInstanceUid: seriesUid };
}
