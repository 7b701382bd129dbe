/**
 * Proofs made here verify on chain: the MedImgShr contract's `verifyInstance(root, proof, pixel,
 * meta, uidHash)` (OpenZeppelin MerkleProof on a real anvil node) accepts every proof of real
 * fingerprinted studies and rejects altered digests.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { FingerprintEngine } from '../../../src/node/fingerprint/engine';
import { openDatabase } from '../../../src/node/store/database';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { startChain, type Chain } from '../contracts/chain';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const FIXTURES = join(__dirname, '../../fixtures/fingerprint');

describe.skipIf(!component('anvil'))('fingerprint proofs on chain (MedImgShr.verifyInstance)', () => {
  let chain: Chain;
  const tmp = tempDir('medimg-fp-chain-');
  beforeAll(async () => {
    chain = await startChain();
  });
  afterAll(async () => {
    await chain?.stop();
    tmp.cleanup();
  });

  it('every instance proof of four fingerprinted studies verifies; an altered pixel, meta or UID hash does not', async () => {
    const dir = join(tmp.path, 'files');
    mkdirSync(dir);
    await writeSampleSeries({ outDir: join(dir, 'ct'), slices: 12, kind: 'ct', seed: 21 });
    for (const f of ['MR_small.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'CT_small.dcm']) copyFileSync(join(PYDICOM, f), join(dir, f));
    for (const f of ['signed12.dcm', 'rgb-planar.dcm', 'rgb-interleaved.dcm', 'multiframe.dcm']) copyFileSync(join(FIXTURES, f), join(dir, f));
    const db = openDatabase(':memory:');
    const engine = new FingerprintEngine(db, { threads: 0 });
    const run = await engine.fingerprintPaths([dir]);
    await engine.close();
    db.close();
    expect(run.errors).toEqual([]);
    expect(run.studies.length).toBe(4);
    const c = chain.contract;
    let checked = 0;
    const flip = (h: string) => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
    for (const st of run.studies) {
      for (const p of st.proofs!) {
        const [pixel, meta, uidHash] = p.value;
        expect(await c.verifyInstance(st.root, p.proof, pixel, meta, uidHash)).toBe(true);
        checked++;
      }
      const [pixel, meta, uidHash] = st.proofs![0]!.value;
      const proof = st.proofs![0]!.proof;
      expect(await c.verifyInstance(st.root, proof, flip(pixel), meta, uidHash)).toBe(false);
      expect(await c.verifyInstance(st.root, proof, pixel, flip(meta), uidHash)).toBe(false);
      expect(await c.verifyInstance(st.root, proof, pixel, meta, flip(uidHash))).toBe(false);
    }
    // 12 CT slices + MR_small (one instance in two encodings) + CT_small + 4 fixture leaves
    expect(checked).toBe(12 + 1 + 1 + 4);
  });
});
