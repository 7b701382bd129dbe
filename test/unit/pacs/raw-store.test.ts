import { describe, expect, it } from 'vitest';
import dimse from 'dcmjs-dimse';
import { keepRawStores, rawBytesOf, type StoreStreamHooks } from '../../../src/node/pacs/raw-store';
import { dataSetOf, part10File } from '../../../src/node/pacs/part10';

const { PresentationContext } = dimse.association;

describe('a received C-STORE keeps its data set bytes as sent', () => {
  it('the P-DATA fragments, joined in order, stand behind the Dataset; its transfer syntax is the accepted one', async () => {
    const hooks = {} as StoreStreamHooks;
    keepRawStores(hooks);
    const pc = new PresentationContext(1, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', 0);
    const w = hooks.createStoreWritableStream(pc, null);
    // a DS value dcmjs would rewrite ("-48.750" → "-48.75") if it parsed and re-encoded the data set
    const fragments = [Buffer.from([0x28, 0x00, 0x30, 0x00, 0x44, 0x53, 0x08, 0x00]), Buffer.from('-48.750 ', 'latin1')];
    for (const f of fragments) w.write(f);
    await new Promise<void>((r) => w.end(r));
    const ds = await new Promise<object>((r) => hooks.createDatasetFromStoreWritableStream(w, pc, r as never));
    expect(Buffer.concat(rawBytesOf(ds) ?? []).equals(Buffer.concat(fragments))).toBe(true);
    // and the Part-10 file around them holds them joined, after its file meta group
    const file = part10File(rawBytesOf(ds)!, { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4', transferSyntaxUid: '1.2.840.10008.1.2.1' });
    expect(dataSetOf(file)?.bytes.toString('latin1')).toBe(Buffer.concat(fragments).toString('latin1'));
    expect((ds as { getTransferSyntaxUid(): string }).getTransferSyntaxUid()).toBe('1.2.840.10008.1.2.1');
  });

  it('a Dataset the library parsed itself has no raw bytes (the caller answers the C-STORE with a failure)', () => {
    expect(rawBytesOf(new dimse.Dataset({}, '1.2.840.10008.1.2'))).toBeUndefined();
    expect(rawBytesOf(undefined)).toBeUndefined();
  });
});
