/**
 * AI findings through the whole path on the embedded anvil: a CR study imported and anchored by
 * the demo clinician, the probe model run on it, its findings anchored beside the study record
 * (anchorFindings through the outbox), exported as original DICOM with the JSON sidecar, and the
 * sidecar verified as a recipient would: records, proofs (here and by the contract), anchored root,
 * the images' pixels. A changed probability or a changed pixel is caught.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePixelDigest, type AiSidecar } from '../../../src/node/ai';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { ensureDemoPartner } from '../../../src/node/ledger/demo-partner';
import { AI_SIDECAR_FILE } from '../../../src/node/share/service';
import { existsSync } from 'node:fs';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import { component } from '../../support/components';
import { blockImage, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe.skipIf(!anvil)('AI findings: anchor, export sidecar, verify (embedded anvil)', () => {
  const tmp = tempDir('medimg-ai-anchor-');
  let s: Services;
  let studyUid: string;
  const files: string[] = [];

  beforeAll(async () => {
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' } });
    const demo = await s.ledgerService.demo.ensure();
    expect(demo.ready, demo.message).toBe(true);
    await s.identity.unlock(s.ledgerService.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const dir = join(tmp.path, 'cr');
    mkdirSync(dir);
    // two PA images of one study: background 1024, region 3072 and 2048
    for (const [k, region] of [
      ['one', 3072],
      ['two', 2048],
    ] as const) {
      const f = join(dir, `${k}.dcm`);
      studyUid = writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, region), study: 'anchor-export', instance: k }).studyInstanceUid;
      files.push(f);
    }
    await s.library.import([dir], new Task('import', null, () => {}));
    const a = await s.ledgerService.anchors.anchorStudy(studyUid, { waitMs: 60_000, patient: s.ledgerService.demo.addresses().patient! });
    expect(a.anchor.delivery).toBe('confirmed');
    await s.ai.registry.install(writeModelFolder(join(tmp.path, 'model')));
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('anchors the findings beside the study record, exports them as a sidecar, and a recipient verifies them', async () => {
    const run = await s.ai.runStudy(studyUid);
    expect(run.results).toHaveLength(2);
    // region 3072 → 0.75 after the file window (C 2048 W 4096), 2048 → 0.5
    expect(run.results.map((r) => r.findings[0]!.probability).sort()).toEqual([sigmoid(0), sigmoid(1)].map((x) => expect.closeTo(x, 6)).sort());

    const anchored = await s.aiAnchors.anchorStudy(studyUid, { waitMs: 60_000 });
    expect(anchored.delivery).toBe('confirmed');
    expect(anchored.count).toBe(2);
    expect(anchored.studyRoot).toBe(s.ledgerService.anchors.ofStudy(studyUid)[0]!.root);
    const conn = (await s.ledgerService.chain.connection())!;
    const onChain = await conn.contract.getFindings(anchored.findingsRoot);
    expect(onChain.count).toBe(2n);
    expect(onChain.studyRoot).toBe(anchored.studyRoot);
    expect(onChain.clinician).toBe(s.ledgerService.demo.addresses().clinician);
    // again: nothing new
    expect((await s.aiAnchors.anchorStudy(studyUid)).alreadyAnchored).toBe(true);

    const outDir = join(tmp.path, 'export');
    const rep = await s.export.run({ scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir });
    expect(rep.written).toHaveLength(2);
    const report = JSON.parse(readFileSync(join(outDir, 'export-report.json'), 'utf8')) as { aiFindings?: string[] };
    expect(report.aiFindings).toEqual(['ai-findings.json']);
    const sidecar = JSON.parse(readFileSync(join(outDir, 'ai-findings.json'), 'utf8')) as AiSidecar;
    expect(sidecar.format).toBe('medimgshr-ai-sidecar/1');
    expect(sidecar.disclaimer).toBe('AI — not for diagnostic use');
    expect(sidecar.merkleRoot).toBe(anchored.findingsRoot);
    expect(sidecar.results).toHaveLength(2);

    const exported = rep.written.map((w) => join(outDir, w.output));
    const bySop = new Map(rep.written.map((w, i) => [w.sopInstanceUid!, exported[i]!]));
    const pixels = async (sop: string) => (bySop.has(sop) ? computePixelDigest(bySop.get(sop)!) : null);
    const ok = await s.aiAnchors.verifySidecar(sidecar, pixels);
    expect(ok.ok, ok.message).toBe(true);
    expect(ok.anchored).toMatchObject({ studyRoot: anchored.studyRoot, count: 2, clinician: s.ledgerService.demo.addresses().clinician });
    expect(ok.results.map((r) => [r.recordMatches, r.proofValid, r.proofValidOnChain, r.pixelsMatch])).toEqual([
      [true, true, true, true],
      [true, true, true, true],
    ]);

    // a recipient handed an edited probability: that record no longer matches its anchored leaf
    const edited = structuredClone(sidecar);
    edited.results[0]!.record.findings[0]!.probability = 0.99;
    const bad = await s.aiAnchors.verifySidecar(edited, pixels);
    expect(bad.ok).toBe(false);
    expect(bad.results[0]!.recordMatches).toBe(false);
    expect(bad.results[1]!.recordMatches).toBe(true);

    // one pixel of an exported image changed: the finding is no longer about this image
    const target = bySop.get(sidecar.results[1]!.sopInstanceUid)!;
    const bytes = readFileSync(target);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01;
    writeFileSync(target, bytes);
    const changed = await s.aiAnchors.verifySidecar(sidecar, pixels);
    expect(changed.ok).toBe(false);
    expect(changed.results[1]!.pixelsMatch).toBe(false);
    expect(changed.results[0]!.pixelsMatch).toBe(true);
  }, 180_000);

  it('a share package carries the sidecar; the partner receives it beside the images, every image verified', async () => {
    const { address: partner } = await ensureDemoPartner(s.ledgerService);
    const patient = s.ledgerService.demo.addresses().patient!;
    await s.share.collectConsent({ studyInstanceUid: studyUid, recipient: partner, patientIdentity: patient, passphrase: DEMO_PASSPHRASE, days: 7 });
    const sent = await s.share.send(studyUid, partner);
    expect(sent.instances).toBe(2);
    // a second workstation (own app data, same chain) receives as the partner
    const conn = await s.ledgerService.contract();
    const b = await Services.open({ home: join(tmp.path, 'partner'), ledger: { mode: 'remote', rpcUrl: s.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
    try {
      void b.ledgerService;
      await b.ledger.check();
      await b.identity.import({ displayName: 'Partner', keystoreJson: s.identity.exportKeystore(partner).keystoreJson, passphrase: DEMO_PASSPHRASE });
      await b.identity.unlock(partner, DEMO_PASSPHRASE);
      const got = await b.share.receive(sent.path);
      expect(got.verified, got.message).toBe(true);
      expect(got.instances).toHaveLength(2);
      expect(got.folder).not.toBeNull();
      const sidecarPath = join(got.folder!, AI_SIDECAR_FILE);
      expect(existsSync(sidecarPath)).toBe(true);
      const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as AiSidecar;
      expect(sidecar.studyInstanceUid).toBe(studyUid);
      expect(sidecar.results).toHaveLength(2);
      // the recipient verifies on its own workstation, against the chain and the received files
      const files = got.instances.map((i) => join(got.folder!, i.file));
      const bySop = new Map(got.instances.map((i, n) => [i.sopInstanceUid!, files[n]!]));
      const v = await b.aiAnchors.verifySidecar(sidecar, async (sop) => (bySop.has(sop) ? computePixelDigest(bySop.get(sop)!) : null));
      expect(v.ok, v.message).toBe(true);
    } finally {
      await b.close();
    }
  }, 180_000);
});
