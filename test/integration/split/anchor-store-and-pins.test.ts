/**
 * Split storage and the chain (issue 13), on the embedded anvil with real SQLite and the folder
 * pixel store:
 * - with split storage on, a new anchor names the pixel store by itself: the local anchor and the
 *   record the contract returns carry the store's location URI (no `storage-uri` setting);
 * - a share by metadata pins its blobs (the pins name the package, the recipient and the record);
 *   garbage collection keeps a pinned blob that no index row names any more; revoking the patient's
 *   consent ends the share and releases its pins, and garbage collection then removes exactly the
 *   blob that nothing names, keeping every blob an index row names.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { ensureDemoPartner } from '../../../src/node/ledger/demo-partner';
import { Services } from '../../../src/node/services';
import { FolderPixelStore } from '../../../src/node/split/folder-store';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const tmp = tempDir('medimg-split-anchor-');

describe.skipIf(!anvil)('split storage on the chain: the anchor names the pixel store; share pins end with the consent', () => {
  let a: Services;
  let studyUid: string;
  let partner: string;
  let patient: string;
  let root: string;

  beforeAll(async () => {
    a = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const demo = await a.ledgerService.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await a.identity.unlock(a.ledgerService.demo.addresses().clinician!, DEMO_PASSPHRASE);
    patient = a.ledgerService.demo.addresses().patient!;
    partner = (await ensureDemoPartner(a.ledgerService)).address;
  }, 300_000);

  afterAll(async () => {
    await a?.close();
    tmp.cleanup();
  });

  it('with split storage on, the anchored record names the pixel store (locally and on chain)', async () => {
    // Kept whole and split storage off: nothing to name (the default medimg-blob:// stays).
    expect(a.split.storeForAnchor(studyUid)).toBeNull();
    a.split.saveSettings({ onImport: true });
    const store = a.split.storage.store.location;
    expect(store).toMatch(/^file:\/\/.*\/blobs\/split\/?$/);
    expect(a.split.storeForAnchor(studyUid)).toBe(store); // on, nothing split yet: the configured store
    const run = await a.split.splitStudies([studyUid]);
    expect(run.errors).toEqual([]);
    expect(run.instances).toHaveLength(40);
    expect(a.split.storeForAnchor(studyUid)).toBe(store); // the store its instances are in

    const anchored = await a.ledgerService.anchors.anchorStudy(studyUid);
    expect(anchored.anchor.delivery).toBe('confirmed');
    expect(anchored.anchor.storageUri).toBe(store);
    root = anchored.anchor.root;
    const conn = await a.ledgerService.contract();
    const evidence = await a.ledgerService.anchors.evidence(conn, root);
    expect(evidence.storageUri).toBe(store);
    expect(evidence.leafCount).toBe(40);
  }, 300_000);

  it('share pins: kept while the share is open, released when the consent is revoked; GC then removes only what nothing names', async () => {
    const consent = await a.share.collectConsent({ studyInstanceUid: studyUid, recipient: partner, patientIdentity: patient, passphrase: DEMO_PASSPHRASE, days: 7 });
    const sent = await a.share.send(studyUid, partner, undefined, { byMetadata: true });
    expect(sent.instances).toBe(40);
    const split = a.split.storage;
    const pins = a.split.sharePins();
    expect(pins).toHaveLength(1);
    expect(pins[0]).toMatchObject({ packageAddress: sent.address, recipient: partner, root, blobs: 40 });
    expect(split.index.pinnedBlobs().size).toBe(40);

    // One instance leaves the index (e.g. rebuilt and kept whole again): its blob is named only by the share's pin.
    const gone = split.index.all()[0]!;
    expect(split.index.remove(gone.sopInstanceUid)).toBe(true);
    // Through the store's interface: the blob is loose or in a pack (a worker's split); a store opened
    // afresh sees what is on disk, not this one's memory of it.
    const storeRoot = (split.store as FolderPixelStore).root;
    const onDisk = () => new FolderPixelStore(storeRoot).has(gone.blobAddress);
    const kept = await split.collectGarbage({ graceMs: 0 });
    expect(kept.blobsDeleted).toEqual([]);
    expect(kept.blobsKept).toBe(40);
    expect(await onDisk()).toBe(true);

    // The share is still open: nothing is released.
    expect(await a.share.releaseEndedSharePins()).toEqual({ released: [], kept: 1 });
    expect(split.index.pinnedBlobs().size).toBe(40);

    // The patient revokes the consent: the share has ended and its pins go with it.
    const revoked = await a.share.revokeConsent({ patient, institution: partner, study: consent.study, passphrase: DEMO_PASSPHRASE, studyInstanceUid: studyUid });
    expect(revoked.institution).toBe(partner);
    expect(a.split.sharePins()).toEqual([]);
    expect(split.index.pinnedBlobs().size).toBe(0);

    const r = await split.collectGarbage({ graceMs: 0 });
    expect(r.blobsDeleted).toEqual([gone.blobAddress]);
    expect(r.bytesFreed).toBe(gone.blobSize);
    expect(r.blobsKept).toBe(39);
    expect(await onDisk()).toBe(false);
    expect(await split.store.has(gone.blobAddress)).toBe(false);
    // Every instance still in the index rebuilds byte-identical from what is left.
    for (const row of split.index.all().slice(0, 3)) {
      const bytes = await split.rebuildBytes(row.sopInstanceUid);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.fileSha256);
    }
  }, 300_000);
});
