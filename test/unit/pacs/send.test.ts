/**
 * send(): a STOW-RS answer's Failed SOP Sequence gives a per-instance failure with its Failure
 * Reason in DICOM terms; results are reported one by one as they come (the UI's per-image list).
 * The DICOMweb client is a fake here (the real one is exercised against Orthanc in the integration
 * and e2e tests).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { send } from '../../../src/node/pacs/send';
import { readFileMeta } from '../../../src/node/pacs/part10';
import type { DicomWebClient } from '../../../src/node/pacs/dicomweb';
import { Task } from '../../../src/node/tasks';

const dir = mkdtempSync(join(tmpdir(), 'medimg-send-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('send by STOW-RS', () => {
  it('an instance in the Failed SOP Sequence fails with its reason in DICOM terms; the others are stored; one result event each', async () => {
    const s = await writeSampleSeries({ outDir: dir, slices: 3, kind: 'ct', seed: 5 });
    const sops = s.files.map((f) => readFileMeta(readFileSync(f)).get(0x0003)!);
    const web = {
      store: async () => ({
        '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [sops[0]] } }, { '00081155': { vr: 'UI', Value: [sops[2]] } }] },
        '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [sops[1]] }, '00081197': { vr: 'US', Value: [0xa700] } }] },
      }),
    } as unknown as DicomWebClient;
    const seen: { index: number; ok: boolean }[] = [];
    const r = await send({ connectionName: 'pacs', web, dimse: null }, s.files, 'stow-rs', new Task('pacs-send', 3, () => {}), { onResult: (x, index) => seen.push({ index, ok: x.ok }) });
    expect(r.sent).toBe(2);
    expect(r.failed).toBe(1);
    expect(r.results.map((x) => [x.sopInstanceUid, x.ok, x.message])).toEqual([
      [sops[0], true, 'stored'],
      [sops[1], false, 'refused by the PACS (failure reason: out of resources (0xA700))'],
      [sops[2], true, 'stored'],
    ]);
    expect(seen).toEqual([
      { index: 0, ok: true },
      { index: 1, ok: false },
      { index: 2, ok: true },
    ]);
  });
});
