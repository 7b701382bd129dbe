import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyActivation, dequantiseHeatMap, findingsOf, heatMapOf, quantiseHeatMap } from '../../../src/core/ai/findings';
import { buildResultTree, canonicalJson, recordDigest, resultLeaf, RESULT_RECORD_SPEC, verifyResultProof, type ResultRecord } from '../../../src/core/ai/result-record';

const card = (activation: 'none' | 'sigmoid' | 'softmax') => ({
  output: { name: 'p', activation, labels: [{ name: 'Pneumonia', threshold: 0.5 }, { name: 'Effusion', threshold: 0.2 }] },
});

describe('findings', () => {
  it('applies the activation and the thresholds (≥ is present)', () => {
    const f = findingsOf([0, Math.log(0.25 / 0.75)], card('sigmoid'));
    expect(f.map((x) => x.label)).toEqual(['Pneumonia', 'Effusion']);
    expect(f[0]!.probability).toBe(0.5);
    expect(f[0]!.present).toBe(true);
    expect(f[1]!.probability).toBeCloseTo(0.25, 12);
    expect(f[1]!.present).toBe(true);
    const s = applyActivation([Math.log(3), 0], 'softmax');
    expect(s[0]).toBeCloseTo(0.75, 12);
    expect(s[1]).toBeCloseTo(0.25, 12);
    expect(findingsOf([0.1, 0.19], card('none')).map((x) => x.present)).toEqual([false, false]);
    expect(() => findingsOf([0.1], card('none'))).toThrow('the model gave 1 values for 2 labels');
  });

  it('stores heat maps in 8 bits over their own range', () => {
    const h = heatMapOf(Float32Array.from([0, 0, 0, 0, 0, 0]), [1, 1, 2, 3], 'sigmoid');
    expect([h.width, h.height, h.values[0]]).toEqual([3, 2, 0.5]);
    const q = quantiseHeatMap({ width: 2, height: 2, values: Float32Array.from([1, 2, 3, 5]) });
    expect([q.min, q.max, Array.from(q.bytes)]).toEqual([1, 5, [0, 64, 128, 255]]);
    expect(Array.from(dequantiseHeatMap(q).values)).toEqual([1, 1 + (64 / 255) * 4, 1 + (128 / 255) * 4, 5].map((v) => Math.fround(v)));
  });
});

describe('result records and their Merkle tree', () => {
  const rec = (uid: string, p: number): ResultRecord => ({
    spec: RESULT_RECORD_SPEC,
    uidHash: createHash('sha256').update(uid).digest('hex'),
    pixel: 'a'.repeat(64),
    model: { sha256: 'b'.repeat(64), cardSha256: 'c'.repeat(64), name: 'M', version: '1' },
    preprocessing: 'medimgshr-ai-preprocess/1',
    findings: [{ label: 'Pneumonia', probability: p, threshold: 0.5, present: p >= 0.5 }],
    heatMap: null,
  });

  it('hashes a canonical encoding (sorted keys, no spaces)', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 0.1, y: undefined } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"z":0.1}}');
    const r = rec('1.2.3', 0.7);
    expect(recordDigest(r)).toBe(createHash('sha256').update(canonicalJson(r)).digest('hex'));
    expect(recordDigest(rec('1.2.3', 0.70000001))).not.toBe(recordDigest(r));
    expect(() => canonicalJson({ p: NaN })).toThrow(/NaN/);
  });

  it('builds a StandardMerkleTree whose proofs verify, independent of order', () => {
    const records = [rec('1.2.3', 0.7), rec('1.2.4', 0.1), rec('1.2.5', 0.5)];
    const t = buildResultTree(records);
    const again = buildResultTree([...records].reverse());
    expect(again.root).toBe(t.root);
    expect(t.leafCount).toBe(3);
    const loaded = StandardMerkleTree.load(t.dump);
    expect(loaded.root).toBe(t.root);
    for (const p of t.proofs) expect(verifyResultProof(t.root, p.leaf, p.proof)).toBe(true);
    const leaf = resultLeaf(records[0]!);
    const forged = [...leaf] as typeof leaf;
    forged[4] = `0x${recordDigest(rec('1.2.3', 0.2))}`;
    const proof = t.proofs.find((p) => p.leaf[0] === leaf[0])!.proof;
    expect(verifyResultProof(t.root, leaf, proof)).toBe(true);
    expect(verifyResultProof(t.root, forged, proof)).toBe(false);
  });
});
