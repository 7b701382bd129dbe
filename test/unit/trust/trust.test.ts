/** Pure parts of the trust / export / share backend: reason texts, history, CSV, key cards, PNG marking. */
import { Wallet } from 'ethers';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CREDIT_POLICY, SCORE_REASON_TEXT, ScoreReason } from '../../../src/core/credit-policy';
import { addTextChunks, drawText, readTextChunks } from '../../../src/node/export/png';
import { ExportService } from '../../../src/node/export/service';
import { keyCardMessage, makeKeyCard, verifyKeyCard } from '../../../src/node/ledger/public-keys';
import { buildHistory, denialText, filterHistory, scoreReasonText, thresholdsOf } from '../../../src/node/trust';
import { csvCell, historyCsv } from '../../../src/node/trust/report';
import type { AccessView, ConsentView, PartyRef, RecordVersion, ScoreChange } from '../../../src/shared/api/trust';
import { channels as trustChannels } from '../../../src/shared/api';

const A = '0x' + '11'.repeat(20);
const B = '0x' + '22'.repeat(20);
const P = '0x' + '33'.repeat(20);
const party = (address: string, role: PartyRef['role'] = 'institution', label: string | null = null): PartyRef => ({ address, role, label });
const at = (block: number) => ({ block, txHash: '0x' + String(block).padStart(64, '0'), time: new Date(Date.UTC(2026, 0, block)).toISOString() });

describe('reason texts (one table: src/core/credit-policy.ts)', () => {
  it('every automatic and named regulator code has plain words; unknown codes still say something useful', () => {
    for (const code of Object.values(ScoreReason)) expect(scoreReasonText(code)).toBe(SCORE_REASON_TEXT[code]);
    expect(scoreReasonText(ScoreReason.PatientAccessReward)).toBe('a study the patient consented to was accessed');
    expect(scoreReasonText(150)).toBe('regulator adjustment (code 150)');
    expect(scoreReasonText(42)).toBe('reason code 42');
    expect(denialText(3)).toBe('the patient revoked the consent');
    expect(denialText(9)).toBe('denied (code 9)');
  });

  it('thresholds come from the policy numbers given (the contract\'s), not from constants', () => {
    const t = thresholdsOf({ ...CREDIT_POLICY, receiveThreshold: 333 });
    expect(t.find((x) => x.key === 'receiveThreshold')!.value).toBe(333);
    expect(t.find((x) => x.key === 'anchorThreshold')!.value).toBe(CREDIT_POLICY.anchorThreshold);
    expect(new Set(t.map((x) => x.key)).size).toBe(t.length);
  });
});

describe('unified history', () => {
  const records: RecordVersion[] = [{ ...at(1), root: '0x' + 'aa'.repeat(32), study: '0x' + 'aa'.repeat(32), version: 1, leafCount: 3, institution: party(A, 'institution', 'Clinic A'), clinician: party(P, 'clinician'), storageUri: 'medimg-blob://a', supersededBy: null }];
  const consents: ConsentView[] = [
    { institution: party(B), scope: 'study', study: '0x' + 'aa'.repeat(32), state: 'revoked', grantedAt: at(2).time, expiresAt: at(40).time, revokedAt: at(5).time, bySignature: true, granted: at(2), revoked: at(5) },
  ];
  const accesses: AccessView[] = [
    { ...at(3), outcome: 'granted', accessId: 1, recipient: party(B), accessor: party(B), root: '0x' + 'aa'.repeat(32), detail: 'allowed', basis: 1, denial: null, followUp: 'confirmed' },
    { ...at(6), outcome: 'denied', accessId: null, recipient: party(B), accessor: party(B), root: '0x' + 'aa'.repeat(32), detail: 'the patient revoked the consent', basis: null, denial: 3, followUp: 'none' },
  ];
  const scores: ScoreChange[] = [{ ...at(3), account: P, delta: 5, newScore: 505, reasonCode: 1, reason: scoreReasonText(1), by: party(B) }];
  const h = buildHistory(records, consents, accesses, scores);

  it('orders by block and says each thing in plain words', () => {
    expect(h.map((e) => e.title)).toEqual(['study anchored', 'consent granted', 'access granted', 'patient score +5 → 505', 'consent revoked', 'access denied']);
    expect(h[0]!.detail).toBe(`3 image(s) recorded by ${P} for Clinic A (${A}), stored at medimg-blob://a.`);
    expect(h[2]!.detail).toMatch(/confirmed the images matched/);
    expect(h[3]!.detail).toBe(`A study the patient consented to was accessed (caused by ${B}).`);
  });

  it('filters by kind, time, institution and text', () => {
    expect(filterHistory(h, { kinds: ['access'] }).map((e) => e.title)).toEqual(['access granted', 'access denied']);
    expect(filterHistory(h, { from: at(3).time!, to: at(6).time! }).map((e) => e.block)).toEqual([3, 3, 5]);
    expect(filterHistory(h, { institution: B.toUpperCase().replace('0X', '0x') }).every((e) => e.institution === B)).toBe(true);
    expect(filterHistory(h, { text: 'REVOKED' }).map((e) => e.title)).toEqual(['consent revoked', 'access denied']);
    expect(filterHistory(h, {})).toHaveLength(h.length);
  });

  it('CSV: header, one row per entry, quoted and formula-safe cells', () => {
    const csv = historyCsv(h).split('\r\n');
    expect(csv[0]).toBe('time,kind,title,detail,institution,account,delta,block,tx');
    expect(csv).toHaveLength(h.length + 2);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('a,b')).toBe('"a,b"');
  });
});

describe('key cards: the public key is recovered from the signature', () => {
  it('a card verifies; a card claiming another address or another key is refused', async () => {
    const w = Wallet.createRandom();
    const card = await makeKeyCard(w as unknown as Wallet, 'Clinic');
    expect(verifyKeyCard(card)).toBe(w.signingKey.publicKey);
    expect(card.signature).toBe(await w.signMessage(keyCardMessage(w.address, card.created)));
    expect(() => verifyKeyCard({ ...card, address: Wallet.createRandom().address })).toThrow(/not signed by/);
    expect(() => verifyKeyCard({ ...card, publicKey: Wallet.createRandom().signingKey.publicKey })).toThrow(/not the key that signed/);
    expect(() => verifyKeyCard({ ...card, created: new Date(0).toISOString() })).toThrow(/not signed by/);
  });
});

describe('export gate classification and PNG marking', () => {
  it('identifiable = original DICOM, or PNG with non-empty overlay text', () => {
    expect(ExportService.identifiable('dicom-original')).toBe(true);
    expect(ExportService.identifiable('dicom-anonymised')).toBe(false);
    expect(ExportService.identifiable('png')).toBe(false);
    expect(ExportService.identifiable('png', { overlayText: ['  '] })).toBe(false);
    expect(ExportService.identifiable('png', { overlayText: ['DOE^JANE'] })).toBe(true);
  });

  it('drawText inks glyph pixels inside the image only; tEXt chunks round-trip and keep the PNG valid', () => {
    const w = 64, h = 16;
    const rgba = new Uint8Array(w * h * 4).fill(128);
    drawText(rgba, w, h, 'NOT FOR', 1, 2, 1, [255, 215, 0]);
    let ink = 0;
    for (let i = 0; i < w * h; i++) if (rgba[i * 4] === 255 && rgba[i * 4 + 1] === 215) ink++;
    expect(ink).toBeGreaterThan(40);
    drawText(rgba, w, h, 'WWWWWWWWWWWWWWWWWWWW', 50, 12, 2, [255, 0, 0]); // clipped, no throw
    const png = new PNG({ width: w, height: h });
    png.data = Buffer.from(rgba);
    const bytes = addTextChunks(PNG.sync.write(png), { Disclaimer: 'NOT FOR DIAGNOSTIC USE', Comment: 'window center 40 width 400' });
    expect(readTextChunks(bytes)).toEqual({ Disclaimer: 'NOT FOR DIAGNOSTIC USE', Comment: 'window center 40 width 400' });
    const back = PNG.sync.read(Buffer.from(bytes));
    expect([back.width, back.height]).toEqual([w, h]);
    expect(Buffer.from(back.data).equals(Buffer.from(rgba))).toBe(true);
  });
});

describe('API contract', () => {
  it('requests are strict and reject bad input with a specific message', () => {
    const req = trustChannels['export.run'].request;
    expect(req.safeParse({ scope: { studyInstanceUid: '1.2.3' }, format: 'png', outDir: '/tmp/x', extra: 1 }).success).toBe(false);
    const r = req.safeParse({ scope: { studyInstanceUid: '1.2.3' }, format: 'dicom-original', outDir: '/tmp/x', override: { reason: ' ' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/type a reason/);
    expect(trustChannels['share.gate'].request.safeParse({ studyInstanceUid: '1.2', recipient: 'not-an-address' }).success).toBe(false);
    expect(trustChannels['export.run'].request.safeParse({ scope: { instanceIds: [] }, format: 'png', outDir: '/x' }).success).toBe(false);
  });
});
