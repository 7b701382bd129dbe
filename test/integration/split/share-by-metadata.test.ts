/**
 * Share by metadata (issue 13) between two app-data folders on one chain (the embedded anvil), with
 * real SQLite: the demo clinician anchors the demo study and the patient consents; the study is sent
 * by metadata — the package holds the metadata parts and the instance keys, no pixel data — first
 * from the folder pixel store, then from a WebDAV store (Debian nginx-light on loopback). The
 * partner's workstation refuses a store it does not know (naming it and how to add it, nothing
 * received), then, once the store is added, fetches the blobs, rebuilds every file byte-identical,
 * verifies it against the chain and records the access.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { ensureDemoPartner } from '../../../src/node/ledger/demo-partner';
import { Services } from '../../../src/node/services';
import { openPackage } from '../../../src/node/share/package';
import { Wallet } from 'ethers';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { requireNginx, startDavServer, type DavServer } from './webdav-server';

const anvil = component('anvil');
const nginx = requireNginx();
const tmp = tempDir('medimg-split-share-');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!anvil || !nginx)('share by metadata (embedded chain, folder and WebDAV pixel stores)', () => {
  let a: Services;
  let b: Services;
  let dav: DavServer;
  let studyUid: string;
  let partner: string;
  let partnerKey: string;
  /** SOP Instance UID → SHA-256 of the original file at the sender. */
  const originals = new Map<string, string>();
  /** A run of 64 pixel bytes of one original image, not all alike (what must not appear in a package). */
  let pixelRun: Buffer;

  beforeAll(async () => {
    dav = await startDavServer(join(tmp.path, 'nginx'));
    a = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const demo = await a.ledgerService.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    const clin = a.ledgerService.demo.addresses().clinician!;
    await a.identity.unlock(clin, DEMO_PASSPHRASE);
    const anchored = await a.ledgerService.anchors.anchorStudy(studyUid);
    expect(anchored.anchor.delivery).toBe('confirmed');
    partner = (await ensureDemoPartner(a.ledgerService)).address;
    const patient = a.ledgerService.demo.addresses().patient!;
    await a.share.collectConsent({ studyInstanceUid: studyUid, recipient: partner, patientIdentity: patient, passphrase: DEMO_PASSPHRASE, days: 7 });
    for (const f of a.share.studyFiles(studyUid)) originals.set(f.sopInstanceUid, sha(readFileSync(f.path)));
    expect(originals.size).toBe(40);

    const conn = await a.ledgerService.contract();
    b = await Services.open({ home: join(tmp.path, 'B'), ledger: { mode: 'remote', rpcUrl: a.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
    void b.ledgerService;
    await b.ledger.check();
    const json = a.identity.exportKeystore(partner).keystoreJson;
    await b.identity.import({ displayName: 'Partner', keystoreJson: json, passphrase: DEMO_PASSPHRASE });
    await b.identity.unlock(partner, DEMO_PASSPHRASE);
    partnerKey = (await Wallet.fromEncryptedJson(json, DEMO_PASSPHRASE)).privateKey;
  }, 300_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await dav?.stop();
    tmp.cleanup();
  });

  /** The rebuilt files at the recipient: SOP Instance UID → SHA-256. */
  function received(folder: string, instances: { file: string; sopInstanceUid: string | null }[]): Map<string, string> {
    return new Map(instances.map((i) => [i.sopInstanceUid!, sha(readFileSync(join(folder, i.file)))]));
  }

  async function checkNoPixels(path: string, metadataBytes: number, pixelBytes: number) {
    const opened = await openPackage(path, partnerKey);
    const names = opened.files.map((f) => f.name);
    expect(names.filter((n) => n.endsWith('.msm'))).toHaveLength(40);
    expect(names).toContain('split-keys.json');
    expect(names.some((n) => n.endsWith('.dcm'))).toBe(false);
    // No decrypted package file holds a run of the original Pixel Data.
    for (const f of opened.files) expect(Buffer.from(f.bytes).indexOf(pixelRun)).toBe(-1);
    const total = opened.files.reduce((n, f) => n + f.bytes.length, 0);
    expect(total).toBeLessThan(metadataBytes + 40 * 200); // metadata parts + the key file
    expect(total * 20).toBeLessThan(pixelBytes); // the pixels are the bulk; none of them is in the package
  }

  it('from the folder store: unknown store refused by name; once added, rebuilt byte-identical, verified, access recorded', async () => {
    const sent = await a.share.send(studyUid, partner, undefined, { byMetadata: true });
    expect(sent.instances).toBe(40);
    const store = a.split.storage.store.location;
    expect(sent.split!.store).toBe(store);
    expect(store.startsWith('file://')).toBe(true);
    // a known run of pixel bytes from the first original (its Pixel Data value, per the split's own cut)
    const first = a.share.studyFiles(studyUid)[0]!;
    const { header } = a.split.storage.openMetadata(first.sopInstanceUid);
    const file = readFileSync(first.path);
    for (let at = header.cutAt + Math.floor(header.pixelLength / 2); ; at += 64) {
      const run = file.subarray(at, at + 64);
      if (new Set(run).size >= 8) {
        pixelRun = Buffer.from(run);
        break;
      }
    }
    expect(file.indexOf(pixelRun)).toBeGreaterThan(0);
    // the package: the metadata parts, the keys and the manifest (digests, Merkle proofs, blob addresses) — no pixels
    expect(sent.size).toBeLessThan(sent.split!.metadataBytes + 40 * 2_000);
    expect(sent.size * 20).toBeLessThan(sent.split!.pixelBytesInStore);
    await checkNoPixels(sent.path, sent.split!.metadataBytes, sent.split!.pixelBytesInStore);
    // the blobs a share in flight names are pinned against garbage collection
    expect(a.split.storage.index.pinnedBlobs().size).toBe(40);

    const accessesBefore = await (await b.ledgerService.contract()).contract.accessCount();
    await expect(b.share.receive(sent.path)).rejects.toMatchObject({ code: 'NOT_FOUND', failure: 'STORE_UNKNOWN', message: expect.stringContaining(store), hint: expect.stringContaining(`medimgshr split-store add ${store}`) });
    expect(await (await b.ledgerService.contract()).contract.accessCount()).toBe(accessesBefore); // nothing recorded

    b.split.addKnownStore(store);
    const r = await b.share.receive(sent.path);
    expect(r).toMatchObject({ verified: true, integrityConfirmed: true, indexed: 40, access: { granted: true }, split: { store, rebuilt: 40 } });
    expect(r.split!.pixelBytesFetched).toBe(sent.split!.pixelBytesInStore);
    expect(received(r.folder!, r.instances)).toEqual(originals);
  }, 300_000);

  it('from a WebDAV store (nginx): rebuilt byte-identical and verified', async () => {
    // The sender moves to the region's WebDAV store: its instances are split again there.
    for (const row of a.split.storage.index.all()) a.split.storage.index.remove(row.sopInstanceUid);
    a.split.saveSettings({ store: dav.url });
    expect(a.split.storage.store.location).toBe(dav.url.endsWith('/') ? dav.url : `${dav.url}/`);
    const sent = await a.share.send(studyUid, partner, undefined, { byMetadata: true });
    expect(sent.split!.store).toBe(a.split.storage.store.location);
    await checkNoPixels(sent.path, sent.split!.metadataBytes, sent.split!.pixelBytesInStore);

    await expect(b.share.receive(sent.path)).rejects.toMatchObject({ failure: 'STORE_UNKNOWN', message: expect.stringContaining(sent.split!.store) });
    b.split.addKnownStore(sent.split!.store);
    const r = await b.share.receive(sent.path);
    expect(r).toMatchObject({ verified: true, integrityConfirmed: true, access: { granted: true }, split: { store: sent.split!.store, rebuilt: 40 } });
    expect(received(r.folder!, r.instances)).toEqual(originals);
  }, 300_000);
});
