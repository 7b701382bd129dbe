/**
 * The export service on real files, a real SQLite library and a real anvil chain, through the handler
 * table (the same code the renderer calls):
 * - anonymised export of a study whose files carry extra identifying values (in a sequence and in
 *   private tags): every element of every output file is walked — none of the patient's values and
 *   none of the original UIDs survive; audited;
 * - original DICOM of a verified study: allowed, byte-identical, audited;
 * - one image altered: identifiable export refused with the reason (nothing written); with an override
 *   reason it is written, and the audit log holds `override` with that reason;
 * - PNG with the viewer's window and overlay text: the pixel values follow the window (pydicom peer),
 *   marked NOT FOR DIAGNOSTIC USE (banner + tEXt);
 * - cancelled half way: no folder; the audit chain verifies; CSV/JSON export of the log;
 * - ledger stopped: the trust panel says unreachable (never verified).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DcmDict, DcmElement } from '../../../src/core/deid/deidentify';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { readTextChunks } from '../../../src/node/export/png';
import { createHandlerTable, type HandlerTable } from '../../../src/node/handlers';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Channel, RequestOf } from '../../../src/shared/api';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { startChain, type Chain } from '../contracts/chain';
import { callHandler } from '../../support/handlers';

const anvil = component('anvil');
const tmp = tempDir('medimg-export-');
const PASS = 'export-test-passphrase';
const SLICES = 3;
const { DicomMessage, DicomDict } = dcmjs.data;

let chain: Chain;
let s: Services;
let table: HandlerTable;
let studyUid: string;
let files: string[];
const identifying = ['SYNTHETIC^PHANTOM', 'SYNTH-07002', '19700101', 'SYN007002', 'Doe^Referrer', '1 Privacy Lane, Leakville', 'PRIVATE-NAME^LEAK', 'OTHER-ID-4711', 'Leak Hospital'];
const originalUids: string[] = [];

const call = <C extends Channel>(channel: C, request: RequestOf<C>) => callHandler(table, s.log, channel, request);

/** Every string value of every element, recursively (sequences, private tags, person names). */
function walk(dict: DcmDict, out: { tag: string; value: string }[] = []): { tag: string; value: string }[] {
  for (const [tag, el] of Object.entries(dict) as [string, DcmElement][]) {
    for (const v of (el.Value ?? []) as unknown[]) {
      if (v === null || v === undefined) continue;
      if (el.vr === 'SQ') walk(v as DcmDict, out);
      else if (typeof v === 'object' && !(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) {
        for (const x of Object.values(v as Record<string, unknown>)) out.push({ tag, value: String(x) });
      } else if (typeof v === 'string' || typeof v === 'number') out.push({ tag, value: String(v) });
      else if (v instanceof ArrayBuffer && el.vr !== 'OB' && el.vr !== 'OW') out.push({ tag, value: Buffer.from(v).toString('latin1') });
    }
  }
  return out;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

describe.skipIf(!anvil)('export service: gate, formats, audit, atomicity', () => {
  beforeAll(async () => {
    chain = await startChain();
    process.env.MEDIMG_SCRYPT_N = '1024';
    const [, inst, clin] = chain.accounts;
    await (await chain.as(chain.regulator).registerInstitution(inst!.address)).wait();
    await (await chain.as(inst!).grantClinician(clin!.address)).wait();
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'remote', rpcUrl: chain.node.rpcUrl }, ledgerPollMs: 200, ledgerService: { contractAddress: chain.address, sync: { auto: false } } });
    void s.ledgerService;
    await s.ledger.check();
    table = createHandlerTable(s);

    const dir = join(tmp.path, 'sample');
    const r = await writeSampleSeries({ outDir: dir, slices: SLICES, kind: 'mr', seed: 7002 });
    studyUid = r.studyInstanceUid;
    // More identifying values: referring physician, address, a sequence and private tags.
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.dcm'))) {
      const p = join(dir, f);
      const b = readFileSync(p);
      const d = DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      const dict = d.dict as DcmDict;
      dict['00080090'] = { vr: 'PN', Value: [{ Alphabetic: 'Doe^Referrer' }] };
      dict['00101040'] = { vr: 'LO', Value: ['1 Privacy Lane, Leakville'] };
      dict['00080080'] = { vr: 'LO', Value: ['Leak Hospital'] };
      dict['00101002'] = { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: ['OTHER-ID-4711'] }, '00100022': { vr: 'CS', Value: ['TEXT'] } }] };
      dict['00290010'] = { vr: 'LO', Value: ['LEAKY CREATOR'] };
      dict['00291010'] = { vr: 'LO', Value: ['PRIVATE-NAME^LEAK'] };
      for (const t of ['0020000D', '0020000E', '00080018', '00200052']) originalUids.push(String((dict[t]!.Value as unknown[])[0]));
      const out = new DicomDict(d.meta);
      out.dict = dict;
      writeFileSync(p, Buffer.from(out.write()));
    }
    const { library } = s;
    await s.tasks.run('import', null, (task) => library.import([dir], task));
    files = (s.db.prepare('SELECT file_path FROM instances ORDER BY number, id').all() as { file_path: string }[]).map((x) => x.file_path);
    expect(files).toHaveLength(SLICES);
    const ids = s.identity;
    await ids.import({ displayName: 'Clinician', privateKey: clin!.privateKey, passphrase: PASS });
    await ids.unlock(clin!.address, PASS);
    const a = await s.ledgerService.anchors.anchorStudy(studyUid, { patient: chain.accounts[5]!.address });
    expect(a.anchor.delivery).toBe('confirmed');
  }, 180_000);

  afterAll(async () => {
    await s?.close();
    await chain?.stop();
    tmp.cleanup();
  });

  it('anonymised export: walking every element of every output file finds none of the identifying values or original UIDs; audited', async () => {
    // The values really are in the input (the test can fail).
    const inVals = walk(DicomMessage.readFile(readFileSync(files[0]!).buffer as ArrayBuffer).dict as DcmDict).map((v) => v.value);
    for (const id of identifying) expect(inVals.some((v) => v.includes(id)), id).toBe(true);

    const outDir = join(tmp.path, 'anon');
    const rep = await call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-anonymised', outDir });
    expect(rep.written).toHaveLength(SLICES);
    expect(rep.decision.identifiable).toBe(false);
    const outFiles = listFiles(outDir);
    expect(outFiles.filter((f) => f.endsWith('.dcm'))).toHaveLength(SLICES);
    let elements = 0;
    for (const f of outFiles) {
      const bytes = readFileSync(f);
      const text = bytes.toString('latin1');
      for (const id of [...identifying, ...originalUids]) expect(text.includes(id), `${id} in ${f} (raw bytes)`).toBe(false);
      if (!f.endsWith('.dcm')) continue;
      const d = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const vals = [...walk(d.meta as DcmDict), ...walk(d.dict as DcmDict)];
      elements += vals.length;
      for (const { tag, value } of vals) {
        for (const id of [...identifying, ...originalUids]) expect(value.includes(id), `${id} in ${tag} of ${f}`).toBe(false);
      }
      expect(Object.keys(d.dict).filter((t) => parseInt(t.slice(0, 4), 16) % 2 === 1)).toEqual([]);
    }
    expect(elements).toBeGreaterThan(40 * SLICES);
    const audit = await call('audit.list', { action: 'export.anonymised' });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]!.subject.study).toBe(studyUid);
    expect(audit.entries[0]!.seq).toBe(rep.auditSeqs[0]);
  });

  it('original DICOM of a verified study is allowed, byte-identical and audited', async () => {
    const d = await call('export.check', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original' });
    expect(d).toMatchObject({ identifiable: true, allowed: true, overridable: false, instances: SLICES });
    expect(d.counts.verified).toBe(SLICES);
    const outDir = join(tmp.path, 'orig');
    const rep = await call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir });
    expect(rep.overridden).toBe(false);
    expect(rep.written).toHaveLength(SLICES);
    for (const [i, w] of rep.written.entries()) expect(readFileSync(join(outDir, w.output)).equals(readFileSync(files[i]!))).toBe(true);
    expect((await call('audit.list', { action: 'export.original' })).entries).toHaveLength(1);
    // Series scope covers the same images; an unknown series is a specific error.
    const seriesUid = (s.db.prepare('SELECT series_uid FROM series').get() as { series_uid: string }).series_uid;
    expect((await call('export.check', { scope: { seriesInstanceUid: seriesUid }, format: 'dicom-original' })).instances).toBe(SLICES);
    await expect(call('export.check', { scope: { seriesInstanceUid: '1.2.3.4' }, format: 'png' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Nothing to export: series 1.2.3.4 is not in the library.' });
    await expect(call('export.check', { scope: { instanceIds: [999999] }, format: 'png' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('opening the Export dialog (check) then exporting verifies each image once; a ledger failure forgets the check', async () => {
    const v = s.ledgerService.verifier;
    v.recent.ledgerFailed(); // start clean: nothing verified before this test is reused
    const n0 = v.imagesCheckedOnChain;
    const d = await call('export.check', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original' });
    expect(d.counts.verified).toBe(SLICES);
    expect(d).not.toHaveProperty('verifications');
    expect(v.imagesCheckedOnChain - n0).toBe(SLICES);
    const rep = await call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir: join(tmp.path, 'once') });
    expect(rep.decision.counts.verified).toBe(SLICES);
    expect(rep.decision).not.toHaveProperty('verifications');
    expect(v.imagesCheckedOnChain - n0).toBe(SLICES); // the export reused the dialog's check
    const audit = (await call('audit.list', { action: 'export.original', order: 'desc', limit: 1 })).entries[0]!;
    expect(audit.details.states).toEqual(Array(SLICES).fill('verified'));
    // After a failed chain read nothing is "verified" from the older check: the images are asked again.
    v.recent.ledgerFailed();
    await call('export.check', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original' });
    expect(v.imagesCheckedOnChain - n0).toBe(2 * SLICES);
  });

  it('one altered image: identifiable export refused with the reason, nothing written; override with a reason is audited', async () => {
    const target = files[1]!;
    const orig = readFileSync(target);
    const bad = Buffer.from(orig);
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 0xff;
    writeFileSync(target, bad);
    try {
      const d = await call('export.check', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original' });
      expect(d).toMatchObject({ allowed: false, overridable: true });
      expect(d.counts).toMatchObject({ verified: SLICES - 1, altered: 1 });
      expect(d.checks.find((c) => c.code === 'verified')).toMatchObject({ ok: false, message: `1 of ${SLICES} image(s) are not verified (1 altered).` });
      const outDir = join(tmp.path, 'blocked');
      await expect(call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir })).rejects.toMatchObject({ code: 'DENIED' });
      expect(existsSync(outDir)).toBe(false);
      // Anonymised export stays allowed (and is logged).
      expect((await call('export.check', { scope: { studyInstanceUid: studyUid }, format: 'dicom-anonymised' })).allowed).toBe(true);
      // Too short a reason is refused by the schema.
      await expect(call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir, override: { reason: ' ' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const reason = 'Tumour board in 10 minutes; the altered slice is checked by phone with the sender.';
      const rep = await call('export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir, override: { reason } });
      expect(rep.overridden).toBe(true);
      expect(rep.written).toHaveLength(SLICES);
      const ov = (await call('audit.list', { action: 'override' })).entries;
      expect(ov).toHaveLength(1);
      expect(ov[0]).toMatchObject({ reason, subject: { study: studyUid } });
      const ex = (await call('audit.list', { action: 'export.original', order: 'desc', limit: 1 })).entries[0]!;
      expect(ex.reason).toBe(reason);
      expect(ex.details.overridden).toBe(true);
      expect(rep.auditSeqs).toEqual([ov[0]!.seq, ex.seq]);
    } finally {
      writeFileSync(target, orig);
    }
  });

  it('PNG: the viewer window is applied (checked against pydicom), overlay text makes it identifiable, marked NOT FOR DIAGNOSTIC USE', async () => {
    const outDir = join(tmp.path, 'png');
    const id = (s.db.prepare('SELECT id FROM instances WHERE file_path = ?').get(files[0]) as { id: number }).id;
    const window = { windowCenter: 600, windowWidth: 800 };
    const d = await call('export.check', { scope: { instanceIds: [id] }, format: 'png', png: { ...window, overlayText: ['SYNTHETIC^PHANTOM'] } });
    expect(d.identifiable).toBe(true);
    expect((await call('export.check', { scope: { instanceIds: [id] }, format: 'png', png: window })).identifiable).toBe(false);
    const rep = await call('export.run', { scope: { instanceIds: [id] }, format: 'png', outDir, png: { ...window, overlayText: ['SYNTHETIC^PHANTOM'] } });
    expect(rep.notForDiagnosticUse).toBe(true);
    const bytes = readFileSync(join(outDir, rep.written[0]!.output));
    expect(readTextChunks(bytes)).toMatchObject({ Disclaimer: 'NOT FOR DIAGNOSTIC USE', Comment: 'window center 600 width 800' });
    const png = PNG.sync.read(bytes);
    const peer = JSON.parse(
      execFileSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', `import pydicom,json,sys; d=pydicom.dcmread(sys.argv[1]); a=d.pixel_array; print(json.dumps({"rows":int(d.Rows),"cols":int(d.Columns),"slope":float(getattr(d,"RescaleSlope",1)),"intercept":float(getattr(d,"RescaleIntercept",0)),"v":[int(a[r,c]) for r,c in [(128,128),(100,60),(200,180)]]}))`, files[0]!]).toString(),
    ) as { rows: number; cols: number; slope: number; intercept: number; v: number[] };
    expect([png.width, png.height]).toEqual([peer.cols, peer.rows]);
    [[128, 128], [100, 60], [200, 180]].forEach(([r, c], i) => {
      const v = peer.v[i]! * peer.slope + peer.intercept;
      const expected = Math.max(0, Math.min(255, Math.round(((v - (600 - 400)) / 800) * 255)));
      expect(png.data[(r! * png.width + c!) * 4]).toBe(expected);
    });
    // The banner is burned into the bottom rows (yellow ink).
    let yellow = 0;
    for (let y = png.height - 12; y < png.height; y++) for (let x = 0; x < png.width; x++) {
      const o = (y * png.width + x) * 4;
      if (png.data[o] === 255 && png.data[o + 1] === 215 && png.data[o + 2] === 0) yellow++;
    }
    expect(yellow).toBeGreaterThan(50);
    expect((await call('audit.list', { action: 'export.png' })).entries[0]!.details).toMatchObject({ overlay: true, identifiable: true });
  });

  it('PNG: named after the series and slice, with the stored measurements drawn and listed as the one stored value', async () => {
    const outDir = join(tmp.path, 'png-measured');
    const row = s.db.prepare('SELECT i.id, i.number, se.number AS seriesNumber, se.modality FROM instances i JOIN series se ON se.id = i.series_ref WHERE i.file_path = ?').get(files[0]) as {
      id: number;
      number: number;
      seriesNumber: number;
      modality: string;
    };
    const len = await call('measurements.save', { instanceId: row.id, kind: 'length', data: { uuid: 'len-1', handles: { start: { x: 40, y: 60 }, end: { x: 200, y: 60 } } } });
    const ang = await call('measurements.save', { instanceId: row.id, kind: 'angle', data: { uuid: 'ang-1', handles: { start: { x: 60, y: 200 }, middle: { x: 120, y: 140 }, end: { x: 200, y: 180 } } } });
    try {
      const rep = await call('export.run', { scope: { instanceIds: [row.id] }, format: 'png', outDir, png: { windowCenter: 40, windowWidth: 400 } });
      const rel = rep.written[0]!.output;
      expect(rel).toBe(`series-${String(row.seriesNumber).padStart(3, '0')}-${row.modality}/slice-${String(row.number).padStart(4, '0')}.png`);
      const bytes = readFileSync(join(outDir, rel));
      // The exported value is the stored value (the one computation), in the tEXt chunk and the report.
      expect(readTextChunks(bytes).Measurements).toBe(`${len.stats.text}; ${ang.stats.text}`);
      const report = JSON.parse(readFileSync(join(outDir, 'export-report.json'), 'utf8')) as { measurements: Record<string, { uuid: string; value: number; text: string }[]> };
      expect(report.measurements[rel]!.map((m) => [m.uuid, m.value, m.text])).toEqual([
        ['len-1', len.stats.length, len.stats.text],
        ['ang-1', ang.stats.angle, ang.stats.text],
      ]);
      // The length's line is burned in (the viewer's tool colour along y = 60).
      const png = PNG.sync.read(bytes);
      let ink = 0;
      for (let x = 50; x < 190; x++) {
        const o = (60 * png.width + x) * 4;
        if (png.data[o] === 242 && png.data[o + 1] === 193 && png.data[o + 2] === 78) ink++;
      }
      expect(ink).toBe(140);
      // Without measurements when asked so.
      const plain = await call('export.run', { scope: { instanceIds: [row.id] }, format: 'png', outDir: join(tmp.path, 'png-plain'), png: { measurements: false } });
      expect(readTextChunks(readFileSync(join(tmp.path, 'png-plain', plain.written[0]!.output))).Measurements).toBeUndefined();
    } finally {
      await call('measurements.delete', { id: len.id });
      await call('measurements.delete', { id: ang.id });
    }
  });

  it('an export cancelled half way leaves no folder; the audit chain verifies and exports as CSV and JSON', async () => {
    const outDir = join(tmp.path, 'cancelled');
    const task = new Task('export', null, () => undefined, 0);
    const progress = task.progress.bind(task);
    task.progress = (u, f) => {
      progress(u, f);
      if ((u.done ?? 0) >= 1) task.cancel();
    };
    await expect(s.export.run({ scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir }, task)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(outDir)).toBe(false);
    expect(readdirSync(tmp.path).filter((n) => n.includes('.partial-'))).toEqual([]);
    expect((await call('audit.list', { action: 'export.failed' })).entries).toHaveLength(1);

    const v = await call('audit.verify', {});
    expect(v.ok).toBe(true);
    expect(v.checked).toBeGreaterThanOrEqual(6);
    const csv = join(tmp.path, 'audit.csv');
    const json = join(tmp.path, 'audit.json');
    const c = await call('audit.export', { format: 'csv', path: csv });
    expect(c.entries).toBe(v.checked);
    expect(readFileSync(csv, 'utf8').split('\r\n')[0]).toBe('seq,at,actor,action,study,subject,details,reason,prev_hash,hash');
    await call('audit.export', { format: 'json', path: json });
    const j = JSON.parse(readFileSync(json, 'utf8')) as { chain: { ok: boolean }; entries: unknown[] };
    expect(j.chain.ok).toBe(true);
    expect(j.entries).toHaveLength(v.checked);
    expect(statSync(json).size).toBe((await call('audit.export', { format: 'json', path: json })).bytes);
  });

  it('registry, share gate and history export through the handler table', async () => {
    const inst = chain.accounts[1]!.address;
    const reg = await call('trust.institutions', {});
    expect(reg.ledger.reachable).toBe(true);
    expect(reg.institutions).toEqual([expect.objectContaining({ id: 1, score: 500, suspended: false, active: true, canReceive: true, self: true, party: expect.objectContaining({ address: inst, role: 'institution' }) })]);
    // Not an institution: refused with that reason (and the other checks still reported).
    const stranger = chain.accounts[7]!.address;
    const g = await call('share.gate', { studyInstanceUid: studyUid, recipient: stranger });
    expect(g.allowed).toBe(false);
    expect(g.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(expect.arrayContaining(['recipient-registered', 'recipient-key']));
    expect(g.checks.find((c) => c.code === 'verified')!.ok).toBe(true);
    await expect(call('share.send', { studyInstanceUid: studyUid, recipient: stranger })).rejects.toMatchObject({ code: 'DENIED' });
    // Its own institution: the contract would allow it (basis: own institution), but sharing to yourself is refused with
    // that reason; the key is still recovered from its grantClinician transaction.
    const own = await call('share.gate', { studyInstanceUid: studyUid, recipient: inst });
    expect(own.contract).toMatchObject({ denial: 0, basis: 3 });
    expect(own.allowed).toBe(false);
    expect(own.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['recipient-self']);
    expect((await call('trust.institutions', {})).institutions[0]!.publicKeyKnown).toBe(true);
    const csv = join(tmp.path, 'h.csv');
    const pdf = join(tmp.path, 'h.pdf');
    const c = await call('trust.exportHistory', { studyInstanceUid: studyUid, format: 'csv', path: csv, filter: { kinds: ['record'] } });
    expect(c.entries).toBe(1);
    expect(readFileSync(csv, 'utf8').split('\r\n')[1]).toMatch(/^[^,]+,record,study anchored,/);
    const p = await call('trust.exportHistory', { studyInstanceUid: studyUid, format: 'pdf', path: pdf });
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    expect(statSync(pdf).size).toBe(p.bytes);
    expect((await call('trust.history', { studyInstanceUid: studyUid, filter: { kinds: ['access'] } })).entries).toEqual([]);
  });

  it('trust panel: verified with the chain up; "ledger unreachable" (never verified) when it is down', async () => {
    const up = await call('trust.panel', { studyInstanceUid: studyUid });
    expect(up.ledger.reachable).toBe(true);
    expect(up.verification!.state).toBe('verified');
    expect(up.records).toHaveLength(1);
    expect(up.patient!.account).toBe(chain.accounts[5]!.address);
    expect(up.patient!.history[0]).toMatchObject({ delta: 0, reason: 'starting score', newScore: 500 });
    expect(up.actingInstitution!.institution.address).toBe(chain.accounts[1]!.address);
    await chain.node.stop();
    await s.ledger.check();
    const down = await call('trust.panel', { studyInstanceUid: studyUid });
    expect(down.ledger.reachable).toBe(false);
    expect(down.ledger.message).toMatch(/Ledger unreachable/);
    expect(down.ledger.lastSyncedAt).toBe(up.ledger.lastSyncedAt);
    expect(down.verification!.state).toBe('ledger-unreachable');
    expect(down.verification!.counts.verified).toBe(0);
    expect(down.records).toHaveLength(1); // the synced copy is still shown, flagged as such
    expect(down.thresholdsFrom).toBe('mirror');
  });
});
