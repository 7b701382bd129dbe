/**
 * Key images saved into a study that is already anchored (embedded anvil, real SQLite): the KOS is a new instance,
 * not in the study's record. The study check says so in words a reader can act on — the document is not covered,
 * the images are verified, anchor again — and anchoring again covers it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const tmp = tempDir('medimg-kos-anchored-');

describe.skipIf(!anvil)('key images saved after the anchor', () => {
  let s: Services;
  let studyUid: string;
  beforeAll(async () => {
    s = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const demo = await s.ledgerService.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await s.identity.unlock(s.ledgerService.demo.addresses().clinician!, DEMO_PASSPHRASE);
    expect((await s.ledgerService.anchors.anchorStudy(studyUid)).anchor.delivery).toBe('confirmed');
  }, 300_000);
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('the KOS is named as a document not in the record (images verified); anchoring again covers it', async () => {
    const before = await s.ledgerService.verifier.verifyStudy(studyUid);
    expect(before.state).toBe('verified');
    const images = before.counts.verified;
    const studyId = (s.db.prepare('SELECT id FROM studies WHERE study_uid = ?').get(studyUid) as { id: number }).id;
    const ids = before.instances.slice(0, 2).map((i) => i.instanceId!);
    for (const id of ids) s.keyImages.mark(id);
    const saved = await s.keyImages.save({ studyId });
    expect(saved).toBeTruthy();

    const after = await s.ledgerService.verifier.verifyStudy(studyUid);
    expect(after.counts).toMatchObject({ verified: images, 'not-registered': 1, altered: 0 });
    expect(after.state).toBe('not-registered');
    expect(after.message).toBe('1 document(s) saved after the anchor (key images or a report) are not in the ledger record; the images are verified. Anchor the study again to include them.');

    expect((await s.ledgerService.anchors.anchorStudy(studyUid)).anchor.delivery).toBe('confirmed');
    const again = await s.ledgerService.verifier.verifyStudy(studyUid);
    expect(again.state).toBe('verified');
    expect(again.counts.verified).toBe(images + 1);
  });
});
