/**
 * The first vertical slice on a real embedded anvil, real SQLite and real files: demo setup →
 * anchor a generated study → verify (all verified) → one pixel byte flipped → exactly that image
 * "altered: pixels" → PatientName edited with dcmjs → "altered: metadata" → ledger stopped →
 * "ledger unreachable" and anchors queue → ledger back → delivered once. Plus the chain-event sync
 * (idempotent re-read, rollback detection with anvil's snapshot/revert).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafValue, verifyLeafProof } from '../../../src/core/fingerprint';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { ANCHOR_KIND, DEMO_PASSPHRASE, type LedgerService } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import { createHandlerTable, dispatch } from '../../../src/node/handlers';
import { AppEvent, channels, type Channel } from '../../../src/shared/api';
import type { StudyVerification } from '../../../src/shared/api/ledger';
import { AppError } from '../../../src/shared/errors';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const tmp = tempDir('medimg-ledger-');
let s: Services;
let l: LedgerService;
let studyUid: string;
let files: string[];

const countEvents = (name: string, where = '1=1', ...args: unknown[]) =>
  (s.db.prepare(`SELECT COUNT(*) AS n FROM chain_events WHERE name = ? AND ${where}`).get(name, ...args) as { n: number }).n;

async function importSample(slices: number, seed: number, kind: 'ct' | 'mr' = 'mr'): Promise<string> {
  const dir = join(tmp.path, `sample-${seed}`);
  const r = await writeSampleSeries({ outDir: dir, slices, kind, seed });
  const { library } = s;
  await s.tasks.run('import', null, (task) => library.import([dir], task));
  return r.studyInstanceUid;
}

const byState = (v: StudyVerification) => Object.fromEntries(Object.entries(v.counts).filter(([, n]) => n > 0));

describe.skipIf(!anvil)('ledger: anchor and verify on the embedded chain', () => {
  beforeAll(async () => {
    s = await Services.open({ home: tmp.path, ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    l = s.ledgerService;
    const demo = await l.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    files = (s.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
    expect(files).toHaveLength(40);
  });

  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('demo: four demo identities with their roles on chain; running it again changes nothing', async () => {
    const st = await l.demo.status();
    expect(st.identities.map((i) => i.role).sort()).toEqual(['clinician', 'institution', 'patient', 'regulator']);
    expect(st.identities.every((i) => i.onChain)).toBe(true);
    const a = l.demo.addresses();
    const clin = await l.roles(a.clinician!);
    expect(clin).toMatchObject({ clinician: true, regulator: false, institution: false, clinicianOf: a.institution });
    expect((await l.roles(a.regulator!)).regulator).toBe(true);
    expect((await l.roles(a.institution!)).institution).toBe(true);
    expect((await l.roles(a.patient!)).patient).toBe(true);
    expect(s.identity.list().filter((i) => i.demo)).toHaveLength(4);
    const again = await l.demo.ensure();
    expect(again.identities.map((i) => i.address).sort()).toEqual(st.identities.map((i) => i.address).sort());
    expect(s.identity.list()).toHaveLength(4);
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n).toBe(40);
  });

  it('anchoring needs an unlocked clinician: locked → LOCKED, patient → DENIED (nothing queued)', async () => {
    await expect(l.anchors.anchorStudy(studyUid)).rejects.toMatchObject({ code: 'LOCKED' });
    await s.identity.unlock(l.demo.addresses().patient!, DEMO_PASSPHRASE);
    const err = await l.anchors.anchorStudy(studyUid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'DENIED' });
    expect((err as AppError).hint).toMatch(/clinician/);
    expect(l.outbox.list({ kind: ANCHOR_KIND })).toHaveLength(0);
    const me = await l.me();
    expect(me.roles?.patient).toBe(true);
    expect(me.fromChain).toBe(true);
  });

  it('a clinician anchors the study: one transaction, record with institution, clinician, block; again = no new write', async () => {
    const a = l.demo.addresses();
    await s.identity.unlock(a.clinician!, DEMO_PASSPHRASE);
    const r = await l.anchors.anchorStudy(studyUid);
    expect(r.anchor.delivery).toBe('confirmed');
    expect(r.existing).toBe(false);
    expect(r.instances).toBe(40);
    expect(r.record).toMatchObject({ root: r.anchor.root, leafCount: 40, institution: a.institution, clinician: a.clinician, patient: a.patient, version: 1 });
    expect(r.record!.block).toBeGreaterThan(0);
    expect(r.record!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    // The storage address carries no identity.
    expect(r.anchor.storageUri).toBe(`medimg-blob://${a.institution!.toLowerCase()}`);
    // Each proof is stored once (migration 022): the anchor's instances and the study's fingerprint
    // proofs refer to the same merkle_proofs rows; the manifest is assembled from them and proves every leaf.
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM merkle_proofs WHERE root = ?').get(r.anchor.root) as { n: number }).n).toBe(40);
    expect(JSON.parse((s.db.prepare('SELECT manifest_json FROM ledger_anchors WHERE root = ?').get(r.anchor.root) as { manifest_json: string }).manifest_json)).not.toHaveProperty('instances');
    const manifest = l.anchors.manifest(r.anchor.root)!;
    expect(manifest.instances).toHaveLength(40);
    expect(manifest.instances.every((i) => verifyLeafProof(r.anchor.root, leafValue(i.pixel, i.meta, i.uidHash), i.proof))).toBe(true);
    const studyProofs = s.fingerprints.getStudy(studyUid)!.proofs!;
    expect(new Map(studyProofs.map((p) => [p.leaf, p.proof]))).toEqual(new Map(manifest.instances.map((i) => [i.leaf, i.proof])));
    const again = await l.anchors.anchorStudy(studyUid);
    expect(again.existing).toBe(true);
    expect(again.anchor.root).toBe(r.anchor.root);
    await l.sync.sync();
    expect(countEvents('StudyAnchored', 'args_json LIKE ?', `%${r.anchor.root}%`)).toBe(1);
    const conn = await l.contract();
    expect(await conn.contract.hasRecord(r.anchor.root)).toBe(true);
  });

  it('verify: all 40 verified with evidence, proven by the contract', async () => {
    const v = await l.verifier.verifyStudy(studyUid);
    expect(byState(v)).toEqual({ verified: 40 });
    expect(v.state).toBe('verified');
    expect(v.instances.every((i) => i.provenOnChain && i.evidence?.root === v.anchor!.root)).toBe(true);
    expect(v.currentRoot).toBe(v.anchor!.root);
    expect(v.record?.clinician).toBe(l.demo.addresses().clinician);
  });

  it('one byte of one file\'s pixel data flipped → exactly that instance "altered: pixels"; restored → verified', async () => {
    const target = files[6]!;
    const orig = readFileSync(target);
    const bad = Buffer.from(orig);
    bad[bad.length - 1000]! ^= 0x01;
    writeFileSync(target, bad);
    try {
      const v = await l.verifier.verifyStudy(studyUid);
      expect(v.state).toBe('altered');
      expect(byState(v)).toEqual({ verified: 39, altered: 1 });
      const altered = v.instances.find((i) => i.state === 'altered')!;
      expect(altered.path).toBe(target);
      expect(altered.differs).toEqual(['pixels']);
      expect(altered.actual!.meta).toBe(altered.expected!.meta);
      expect(altered.actual!.pixel).not.toBe(altered.expected!.pixel);
      expect(altered.evidence?.root).toBe(v.anchor!.root);
      const one = await l.verifier.verifyInstances({ paths: [target] });
      expect(one.instances[0]).toMatchObject({ state: 'altered', differs: ['pixels'] });
    } finally {
      writeFileSync(target, orig);
    }
    const back = await l.verifier.verifyInstances({ paths: [target] });
    expect(back.instances[0]!.state).toBe('verified');
  });

  it('PatientName edited with dcmjs → "altered: metadata"', async () => {
    const target = files[9]!;
    const orig = readFileSync(target);
    const { DicomMessage } = (dcmjs as unknown as { data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: Record<string, { Value: unknown[] }>; write(): ArrayBuffer } } } }).data;
    const msg = DicomMessage.readFile(orig.buffer.slice(orig.byteOffset, orig.byteOffset + orig.byteLength));
    msg.dict['00100010']!.Value = [{ Alphabetic: 'DOE^JOHN' }];
    writeFileSync(target, Buffer.from(msg.write()));
    try {
      const id = (s.db.prepare('SELECT id FROM instances WHERE file_path = ?').get(target) as { id: number }).id;
      const v = await l.verifier.verifyInstances({ instanceIds: [id] });
      expect(v.instances[0]).toMatchObject({ instanceId: id, state: 'altered', differs: ['metadata'] });
      const st = await l.verifier.verifyStudy(studyUid);
      expect(byState(st)).toEqual({ verified: 39, altered: 1 });
    } finally {
      writeFileSync(target, orig);
    }
  });

  it('a study never anchored is "not registered"', async () => {
    const uid = await importSample(2, 501);
    const v = await l.verifier.verifyStudy(uid);
    expect(byState(v)).toEqual({ 'not-registered': 2 });
    expect(v.anchor).toBeNull();
  });

  it('chain sync: records, roles, scores stored once; a full re-read adds nothing', async () => {
    const p1 = await l.sync.sync();
    expect(p1.status.lastSyncedBlock).toBe(p1.status.head);
    const tables = ['chain_events', 'chain_records', 'chain_roles', 'chain_scores', 'chain_storage'];
    const counts = () => Object.fromEntries(tables.map((t) => [t, (s.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n]));
    const before = counts();
    expect(before.chain_records).toBe(1);
    expect(before.chain_storage).toBe(1);
    const a = l.demo.addresses();
    const roles = s.db.prepare('SELECT event, account FROM chain_roles WHERE event IN (?, ?)').all('ClinicianGranted', 'InstitutionRegistered') as { event: string; account: string }[];
    expect(roles).toEqual(expect.arrayContaining([{ event: 'ClinicianGranted', account: a.clinician }, { event: 'InstitutionRegistered', account: a.institution }]));
    const score = s.db.prepare('SELECT new_score, reason FROM chain_scores WHERE account = ?').get(a.institution) as { new_score: number; reason: number };
    expect(score.new_score).toBe(500);
    // Forget the progress (not the rows) and read everything again: upserts, no duplicates.
    s.db.prepare('UPDATE chain_sync_state SET last_block = from_block - 1, last_block_hash = NULL').run();
    await l.sync.sync();
    expect(counts()).toEqual(before);
  });

  it('ledger stopped → "ledger unreachable" (never verified) and anchors queue; back → delivered once', async () => {
    const second = await importSample(3, 502);
    await s.stopEmbeddedLedger();
    expect(s.ledger.current().state).toBe('unreachable');
    const v = await l.verifier.verifyStudy(studyUid);
    expect(byState(v)).toEqual({ 'ledger-unreachable': 40 });
    expect(v.instances.every((i) => i.evidence === null && !i.provenOnChain)).toBe(true);
    const q = await l.anchors.anchorStudy(second, { waitMs: 2000 });
    expect(q.anchor.delivery).toBe('queued');
    expect(q.record).toBeNull();
    expect(q.message).toMatch(/queued/);
    await s.restartEmbeddedLedger();
    const deadline = Date.now() + 30_000;
    while (l.outbox.get(ANCHOR_KIND, q.anchor.root)?.status !== 'confirmed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(l.outbox.get(ANCHOR_KIND, q.anchor.root)?.status).toBe('confirmed');
    await l.sync.sync();
    expect(countEvents('StudyAnchored', 'args_json LIKE ?', `%${q.anchor.root}%`)).toBe(1);
    const after = await l.verifier.verifyStudy(second);
    expect(byState(after)).toEqual({ verified: 3 });
    expect(byState(await l.verifier.verifyStudy(studyUid))).toEqual({ verified: 40 });
  });

  it('rollback: blocks that disappear (evm_revert) are detected and their events removed', async () => {
    const conn = await l.contract();
    await l.sync.sync();
    const snap = (await conn.provider.send('evm_snapshot', [])) as string;
    const third = await importSample(2, 503);
    const r = await l.anchors.anchorStudy(third);
    expect(r.anchor.delivery).toBe('confirmed');
    const p1 = await l.sync.sync();
    expect(countEvents('StudyAnchored', 'args_json LIKE ?', `%${r.anchor.root}%`)).toBe(1);
    const resetsBefore = p1.status.resets;
    s.identity.lock(); // the outbox cannot re-send until the clinician is back
    expect(await conn.provider.send('evm_revert', [snap])).toBe(true);
    for (let i = 0; i < 3; i++) await conn.provider.send('evm_mine', []);
    const headAfterMines = await conn.provider.getBlockNumber();
    const p2 = await l.sync.sync(); // (the automatic sync on new blocks may have detected it first)
    expect(p2.status.resets).toBeGreaterThanOrEqual(resetsBefore + 1);
    expect(p2.status.lastResetFrom).toBeLessThan(r.anchor.block!);
    expect(countEvents('StudyAnchored', 'args_json LIKE ?', `%${r.anchor.root}%`)).toBe(0);
    expect(p2.status.lastSyncedBlock).toBeGreaterThanOrEqual(headAfterMines); // (the outbox may already be re-sending)
    // The record is gone from the chain: verification says so (not verified), the outbox re-sends it.
    expect(byState(await l.verifier.verifyStudy(third))).toEqual({ 'not-registered': 2 });
    await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const deadline = Date.now() + 20_000;
    while (!(await conn.contract.hasRecord(r.anchor.root)) && Date.now() < deadline) {
      await l.outbox.runOnce();
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(await conn.contract.hasRecord(r.anchor.root)).toBe(true);
    await l.sync.sync();
    expect(countEvents('StudyAnchored', 'args_json LIKE ?', `%${r.anchor.root}%`)).toBe(1);
  });

  it('API: every ledger channel answers through dispatch with a response that matches its schema', async () => {
    const events: unknown[] = [];
    const onEvent = (e: unknown) => events.push(e);
    s.events.on('event', onEvent);
    const table = createHandlerTable(s);
    const sender = { url: 'app://medimgshr/index.html', trusted: true };
    const a = l.demo.addresses();
    const id = (s.db.prepare('SELECT id FROM instances ORDER BY id LIMIT 1').get() as { id: number }).id;
    const calls: [Channel, unknown][] = [
      ['ledger.status', {}],
      ['ledger.info', {}],
      ['ledger.me', {}],
      ['ledger.roles', { address: a.institution }],
      ['ledger.anchor', { studyInstanceUid: studyUid }],
      ['ledger.anchors', { studyInstanceUid: studyUid }],
      ['ledger.verifyStudy', { studyInstanceUid: studyUid }],
      ['ledger.verifyInstances', { instanceIds: [id], paths: [files[0]!] }],
      ['ledger.sync', {}],
      ['ledger.syncStatus', {}],
      ['ledger.demoStatus', {}],
    ];
    for (const [channel, req] of calls) {
      const r = await dispatch(table, channel, req, sender);
      expect(r.ok, `${channel}: ${JSON.stringify(r)}`).toBe(true);
      const parsed = channels[channel].response.safeParse((r as { value: unknown }).value);
      expect(parsed.success, `${channel}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`).toBe(true);
      // Bridge payloads are JSON.
      expect(JSON.parse(JSON.stringify((r as { value: unknown }).value))).toEqual((r as { value: unknown }).value);
    }
    const info = await dispatch(table, 'ledger.info', {}, sender);
    expect((info as { value: { sync: { lastSyncedBlock: number } } }).value.sync.lastSyncedBlock).toBeGreaterThan(0);
    await s.identity.lock();
    await s.identity.unlock(a.clinician!, DEMO_PASSPHRASE);
    await new Promise((r) => setTimeout(r, 300));
    s.events.off('event', onEvent);
    const types = new Set(events.map((e) => (e as { type: string }).type));
    expect(types).toContain('ledger-anchor');
    expect(types).toContain('ledger-identity');
    for (const e of events) expect(AppEvent.safeParse(e).success, JSON.stringify(e).slice(0, 300)).toBe(true);
    const bad = await dispatch(table, 'ledger.verifyInstances', {}, sender);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});
