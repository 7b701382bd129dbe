/**
 * The AI pipeline end to end in the calling thread: a generated probe model whose outputs are
 * known functions of its input, CR images written with dcmjs, real ONNX Runtime and SQLite.
 * Every expected number is computed by hand from the image's stored values (see comments).
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, recordDigest, RESULT_LEAF_ENCODING, sha256Hex } from '../../../src/core/ai/result-record';
import { createAi, computePixelDigest, inspectModel, type AiService } from '../../../src/node/ai';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { resultRecord } from '../../../src/node/ai/result-store';
import { InferenceEngine } from '../../../src/node/ai/inference';
import { openDatabase, type Db } from '../../../src/node/store/database';
import { FingerprintEngine } from '../../../src/node/fingerprint/engine';
import { blockImage, crImageBytes, probeCard, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(): { dir: string; ai: AiService; db: Db } {
  const t = tempDir('medimg-ai-');
  const db = openDatabase(join(t.path, 'db.sqlite'));
  const ai = createAi({ db, appDataDir: t.path, decode: decodeFrames, inspect: inspectModel, computePixelDigest, threads: 0 });
  cleanups.push(t.cleanup, () => void db.close(), () => ai.close());
  return { dir: t.path, ai, db };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// Stored 1024 (background) and 3072 (region), file window C 2048 W 4096 → lo 0, hi 4096:
// background 0.25, region 0.75. Area resize 256 → 32 averages 8×8 blocks exactly.
// Probe model: A = sigmoid(4·(regionMean − 0.5)), B = mean over 32×32 (64 region pixels of 1024).
const EXPECT_M2 = { a: sigmoid(4 * (0.75 - 0.5)), b: (64 * 0.75 + 960 * 0.25) / 1024 };
// MONOCHROME1 inverts: background 0.75, region 0.25.
const EXPECT_M1 = { a: sigmoid(4 * (0.25 - 0.5)), b: (64 * 0.25 + 960 * 0.75) / 1024 };

describe('AI pipeline (inline)', () => {
  it('says honestly that no model is installed, and gives no result', async () => {
    const { dir, ai } = setup();
    const file = join(dir, 'cr.dcm');
    writeCrImage(file, { rows: 256, columns: 256, pixels: blockImage(1024, 3072) });
    await expect(ai.runFiles([file])).rejects.toMatchObject({
      reason: 'NO_MODEL_INSTALLED',
      message: 'No AI model is installed: Settings → AI models, or `medimgshr model add <folder>` (a folder with model.onnx and card.json; see docs/ai.md).',
    });
    expect(ai.results.forFile(file)).toEqual([]);
  });

  it('computes the expected probabilities, thresholds and heat map, MONOCHROME2 and MONOCHROME1', async () => {
    const { dir, ai } = setup();
    await ai.registry.install(writeModelFolder(join(dir, 'probe')));
    const m2 = join(dir, 'm2.dcm');
    const m1 = join(dir, 'm1.dcm');
    writeCrImage(m2, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), instance: 'm2' });
    writeCrImage(m1, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), instance: 'm1', photometric: 'MONOCHROME1' });
    const run = await ai.runFiles([m2, m1]);
    expect(run.disclaimer).toBe('AI — not for diagnostic use');
    expect(run.skipped).toEqual([]);
    expect(run.failed).toEqual([]);
    const [r2, r1] = run.results;
    expect(r2!.findings.map((f) => f.label)).toEqual(['Opacity (region)', 'Mean brightness']);
    expect(r2!.findings[0]!.probability).toBeCloseTo(EXPECT_M2.a, 6);
    expect(r2!.findings[1]!.probability).toBeCloseTo(EXPECT_M2.b, 6);
    expect(r2!.findings.map((f) => [f.threshold, f.present])).toEqual([[0.5, true], [0.4, false]]);
    expect(r2!.window).toEqual({ center: 2048, width: 4096, source: 'file', inverted: false });
    expect(r1!.findings[0]!.probability).toBeCloseTo(EXPECT_M1.a, 6);
    expect(r1!.findings[1]!.probability).toBeCloseTo(EXPECT_M1.b, 6);
    expect(r1!.findings.map((f) => f.present)).toEqual([false, true]);
    expect(r1!.window.inverted).toBe(true);

    // Heat map = 4×4 average pool of the 32×32 input: 8×8, region (rows/cols 2..3) 0.75, rest 0.25;
    // stored as 8 bits over min..max: 255 in the region, 0 elsewhere.
    const hm = ai.results.forFile(m2)[0]!.heatMap!;
    expect([hm.width, hm.height, hm.min, hm.max, hm.label]).toEqual([8, 8, 0.25, 0.75, 'Opacity (region)']);
    const expected = Array.from({ length: 64 }, (_, i) => (Math.floor(i / 8) >= 2 && Math.floor(i / 8) < 4 && i % 8 >= 2 && i % 8 < 4 ? 255 : 0));
    expect(Array.from(hm.bytes)).toEqual(expected);

    // provenance: the pixel digest of the fingerprint spec, the installed model's hashes, the preprocessing id
    const model = ai.registry.list()[0]!;
    expect(r2!.pixelSha256).toBe(await computePixelDigest(m2));
    expect(r2!.pixelSource).toBe('computed');
    expect(r2!.model).toMatchObject({ id: model.id, modelSha256: model.modelSha256, cardSha256: model.cardSha256, name: 'Probe chest model (test)' });
    expect(r2!.preprocessing).toBe('medimgshr-ai-preprocess/1');
    expect(r2!.recordSha256).toBe(sha256Hex(canonicalJson(resultRecord(r2!))));
  });

  it('skips images the card does not accept, with the reason', async () => {
    const { dir, ai } = setup();
    await ai.registry.install(writeModelFolder(join(dir, 'probe')));
    const ct = join(dir, 'ct.dcm');
    const lat = join(dir, 'lat.dcm');
    const small = join(dir, 'small.dcm');
    writeCrImage(ct, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), modality: 'CT', instance: 'ct' });
    writeCrImage(lat, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), viewPosition: 'LL', instance: 'lat' });
    writeCrImage(small, { rows: 32, columns: 32, pixels: new Uint16Array(32 * 32), instance: 'small' });
    const notDicom = join(dir, 'notes.txt');
    writeFileSync(notDicom, 'not an image');
    const run = await ai.runFiles([ct, lat, small, notDicom]);
    expect(run.results).toEqual([]);
    expect(run.skipped.map((s) => s.reason)).toEqual([
      'the model accepts CR/DX images; this one is CT',
      "the model accepts PA/AP views; this one's View Position is LL",
      'the image is too small: 32×32 pixels, the model needs at least 64×64',
    ]);
    expect(run.failed).toHaveLength(1);
    expect(run.failed[0]).toMatchObject({ path: notDicom, code: 'NOT_DICOM' });
  });

  it('marks a result stale when one pixel changes, or the model is removed; the study root covers current results', async () => {
    const { dir, ai } = setup();
    const { model } = await ai.registry.install(writeModelFolder(join(dir, 'probe')));
    const a = join(dir, 'a.dcm');
    const b = join(dir, 'b.dcm');
    const imgA = writeCrImage(a, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), instance: 'a' });
    writeCrImage(b, { rows: 256, columns: 256, pixels: blockImage(1000, 2000), instance: 'b' });
    await ai.runFiles([a, b]);
    const study = imgA.studyInstanceUid;
    let findings = await ai.studyFindings(study);
    expect(findings.results.map((r) => r.freshness)).toEqual([{ state: 'current' }, { state: 'current' }]);

    // the study's Merkle root, verifiable with OpenZeppelin's StandardMerkleTree
    const { tree } = await ai.studyTree(study);
    expect(tree.leafCount).toBe(2);
    for (const r of findings.results) {
      const rec = resultRecord(r);
      const leaf = [`0x${rec.uidHash}`, `0x${r.pixelSha256}`, `0x${model.modelSha256}`, `0x${model.cardSha256}`, `0x${recordDigest(rec)}`];
      const p = tree.proofs.find((x) => x.leaf[0] === leaf[0])!;
      expect(p.leaf).toEqual(leaf);
      expect(StandardMerkleTree.verify(tree.root, [...RESULT_LEAF_ENCODING], leaf, p.proof)).toBe(true);
    }
    const sidecar = await ai.sidecar(study);
    expect(sidecar.merkleRoot).toBe(tree.root);
    expect(sidecar.results).toHaveLength(2);

    // change one pixel of file a (the last stored value, little-endian 16-bit)
    const bytes = readFileSync(a);
    bytes.writeUInt16LE(bytes.readUInt16LE(bytes.length - 2) + 1, bytes.length - 2);
    writeFileSync(a, bytes);
    findings = await ai.studyFindings(study);
    const stale = findings.results.find((r) => r.filePath === a)!;
    expect(stale.freshness.state).toBe('stale');
    expect(stale.freshness.state === 'stale' && stale.freshness.reasons).toEqual([
      `the image's pixels changed since the finding (pixel digest was ${stale.pixelSha256.slice(0, 12)}…, now ${(await computePixelDigest(a))!.slice(0, 12)}…)`,
    ]);
    expect(findings.results.find((r) => r.filePath === b)!.freshness).toEqual({ state: 'current' });
    const after = await ai.studyTree(study);
    expect([after.tree.leafCount, after.excludedStale]).toEqual([1, 1]);
    expect(after.tree.root).not.toBe(tree.root);

    ai.registry.remove(model.id);
    findings = await ai.studyFindings(study);
    const bAfter = findings.results.find((r) => r.filePath === b)!;
    expect(bAfter.freshness).toEqual({ state: 'stale', reasons: ['the model that produced it (Probe chest model (test) 1.0.0) is no longer installed'] });
  });

  it('runs a fingerprinted study and takes the pixel digest from the fingerprint tables', async () => {
    const { dir, ai, db } = setup();
    await ai.registry.install(writeModelFolder(join(dir, 'probe')));
    const files = ['s1', 's2', 's3'].map((k) => join(dir, `${k}.dcm`));
    const ids = files.map((f, i) => writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), study: 'fp-study', instance: `i${i}`, viewPosition: i === 2 ? 'LL' : 'PA' }));
    const engine = new FingerprintEngine(db, { threads: 0 });
    const fp = await engine.fingerprintPaths(files);
    await engine.close();
    expect(fp.errors).toEqual([]);
    const run = await ai.runStudy(ids[0]!.studyInstanceUid);
    expect(run.results.map((r) => r.pixelSource)).toEqual(['fingerprint', 'fingerprint']);
    expect(run.results.map((r) => r.pixelSha256)).toEqual(fp.instances.slice(0, 2).map((i) => i.pixel));
    expect(run.skipped).toEqual([{ path: files[2], sopInstanceUid: ids[2]!.sopInstanceUid, model: ai.registry.list()[0]!.id, reason: "the model accepts PA/AP views; this one's View Position is LL" }]);
    await expect(ai.runStudy('2.25.1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to run a model whose installed file was altered', async () => {
    const { dir, ai } = setup();
    const { model } = await ai.registry.install(writeModelFolder(join(dir, 'probe')));
    const f = join(dir, 'a.dcm');
    writeFileSync(f, crImageBytes({ rows: 64, columns: 64, pixels: new Uint16Array(64 * 64).fill(7) }).bytes);
    writeFileSync(model.cardPath, JSON.stringify(probeCard({ version: '9' })));
    await expect(ai.runFiles([f])).rejects.toMatchObject({ reason: 'MODEL_FILE_CHANGED' });
    // the engine itself loads a model only from bytes that hash to the installed SHA-256
    const engine = new InferenceEngine(decodeFrames);
    const m = { id: model.id, modelPath: model.modelPath, modelSha256: 'f'.repeat(64), card: model.card };
    const out = await engine.run({ filePath: f, model: m, computePixelDigest: false });
    await engine.close();
    expect(out).toMatchObject({ kind: 'failed', code: 'TAMPERED' });
  });
});
