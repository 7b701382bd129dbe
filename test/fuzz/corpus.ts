/**
 * The fuzz corpus: every file of pydicom's test set that the app reads (real files nobody here wrote), plus small
 * generated CT and MR slices from the project's own generator. Each seed carries the element boundaries the
 * structure-aware mutators aim at.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type dicomParser from 'dicom-parser';
import { PYDICOM_TEST_FILES } from '../../src/node/components';
import { parseDicomBytes } from '../../src/node/dicom/parse';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { tempDir } from '../support/tmp';

/** Where one element stands in the file. */
export interface ElementSpan {
  tag: string;
  vr: string | undefined;
  /** first byte of the element's header */
  start: number;
  /** first byte of its value */
  dataOffset: number;
  length: number;
  undefinedLength: boolean;
  depth: number;
}

export interface Seed {
  name: string;
  bytes: Uint8Array;
  transferSyntaxUid: string;
  explicitVr: boolean;
  littleEndian: boolean;
  elements: ElementSpan[];
  /** Offsets and lengths of the encapsulated Pixel Data fragments (empty for native pixel data). */
  fragments: { offset: number; length: number }[];
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';

/** Element spans of a parsed data set (and its sequences' items), header start estimated from the VR form. */
function spans(ds: dicomParser.DataSet, explicitVr: boolean, depth = 0, out: ElementSpan[] = []): ElementSpan[] {
  for (const el of Object.values(ds.elements)) {
    const group = parseInt(el.tag.slice(1, 5), 16);
    const explicit = group === 2 ? true : explicitVr;
    const longForm = !explicit || ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'].includes(el.vr ?? '');
    const headerLength = explicit ? (longForm ? 12 : 8) : 8;
    out.push({
      tag: el.tag,
      vr: el.vr,
      start: el.dataOffset - headerLength,
      dataOffset: el.dataOffset,
      length: el.length,
      undefinedLength: Boolean(el.hadUndefinedLength),
      depth,
    });
    for (const item of el.items ?? []) if (item.dataSet) spans(item.dataSet, explicitVr, depth + 1, out);
  }
  return out;
}

export function seedOf(name: string, bytes: Uint8Array): Seed | null {
  let parsed;
  try {
    parsed = parseDicomBytes(bytes);
  } catch {
    return null; // the app rejects it as it is: not a seed (the mutators start from files it reads)
  }
  const ts = parsed.transferSyntaxUid;
  if (ts === DEFLATED) {
    // Structure-blind mutations only: the element offsets are those of the inflated data set.
    return { name, bytes, transferSyntaxUid: ts, explicitVr: true, littleEndian: true, elements: [], fragments: [] };
  }
  const ds = parsed.dataSet as unknown as dicomParser.DataSet;
  const explicitVr = ts !== IMPLICIT_LE;
  const elements = spans(ds, explicitVr).filter((e) => e.start >= 0 && e.dataOffset <= bytes.length);
  const pixel = ds.elements.x7fe00010;
  const fragments = (pixel?.fragments ?? []).map((f) => ({ offset: f.position, length: f.length }));
  return { name, bytes, transferSyntaxUid: ts, explicitVr, littleEndian: ts !== EXPLICIT_BE, elements, fragments };
}

/** pydicom's test files that the app reads, then generated CT and MR slices (small, so a case is quick). */
export async function loadCorpus(): Promise<Seed[]> {
  if (!existsSync(PYDICOM_TEST_FILES)) throw new Error(`pydicom's test files are needed for the fuzz corpus (${PYDICOM_TEST_FILES}): apt-get install python3-pydicom`);
  const seeds: Seed[] = [];
  for (const f of readdirSync(PYDICOM_TEST_FILES).sort()) {
    if (!f.endsWith('.dcm')) continue;
    const s = seedOf(`pydicom/${f}`, new Uint8Array(readFileSync(join(PYDICOM_TEST_FILES, f))));
    if (s) seeds.push(s);
  }
  const dir = tempDir('medimg-fuzz-corpus-');
  try {
    for (const kind of ['ct', 'mr'] as const) {
      const out = join(dir.path, kind);
      await writeSampleSeries({ outDir: out, slices: 2, kind, seed: 7 });
      for (const f of readdirSync(out).sort()) {
        const s = seedOf(`generated/${kind}/${f}`, new Uint8Array(readFileSync(join(out, f))));
        if (s) seeds.push(s);
      }
    }
  } finally {
    dir.cleanup();
  }
  return seeds;
}
