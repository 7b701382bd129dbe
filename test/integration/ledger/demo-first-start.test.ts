/**
 * What a newcomer gets from `npm start` on a fresh app-data folder (the Electron glue calls
 * startDemo with anchorDemoStudy): the DEMO identities, the synthetic study, and that study
 * anchored by the DEMO clinician, so the first screen shows it verified — with nobody left logged in.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-first-start-');
let s: Services | undefined;
afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe.skipIf(!component('anvil'))('first start on the embedded chain', () => {
  it('sets up the demo and anchors its study: every image verified, no identity left unlocked', async () => {
    s = await Services.open({ home: tmp.path, ledger: { mode: 'saved' } });
    startDemo(s.ledgerService, { anchorDemoStudy: true });
    const l = s.ledgerService;
    // nobody is logged in or out while the demo anchors (the login screen stays; a user's session is never touched)
    const sessionChanges: unknown[] = [];
    s.identity.on('change', (c) => sessionChanges.push(c));
    const demo = await l.demo.ensure({ anchor: true });
    expect(sessionChanges).toEqual([]);
    expect(demo.ready).toBe(true);
    const uid = demo.study!.studyInstanceUid;
    const anchors = l.anchorsOf(uid);
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.delivery).toBe('confirmed');
    const v = await l.verifier.verifyStudy(uid);
    expect(v.state).toBe('verified');
    expect(v.counts.verified).toBe(40);
    expect(s.identity.current()).toBeNull();
    expect(s.identity.actingIdentity()).toBeNull();
    // A second start anchors nothing again.
    await l.demo.ensure({ anchor: true });
    expect(l.anchorsOf(uid)).toHaveLength(1);
  });
});
