import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import dimse from 'dcmjs-dimse';
import { decodeCommandSet, encodeCommandSet, framePdus } from '../../../src/node/pacs/dimse-wire';

const { CStoreResponse, CMoveResponse, CGetResponse, CFindResponse, CEchoResponse } = dimse.responses;
const { CStoreRequest, CMoveRequest, CGetRequest, CFindRequest, CEchoRequest } = dimse.requests;
type Ds = InstanceType<typeof dimse.Dataset>;
type Cmd = { getCommandDataset(): Ds };
/** The typings ask for constructor arguments the library does not need. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const neu = (C: unknown): any => new (C as new () => unknown)();

// dcmjs's own coding, taken before anything patches the prototype (this file never calls fastCommandSets)
const dcmjsEncode = (d: Ds) => (d as unknown as { getDenaturalizedCommandDataset(): Buffer }).getDenaturalizedCommandDataset();
const dcmjsDecode = (b: Buffer) => new dimse.Dataset(b).getElements();

function commands(): Cmd[] {
  const store = neu(CStoreResponse);
  store.setStatus(0);
  store.setAffectedSopClassUid('1.2.840.10008.5.1.4.1.1.2');
  store.setAffectedSopInstanceUid('1.2.826.0.1.3680043.8.498.12345678901234567890');
  store.setMessageIdBeingRespondedTo(7);
  const failed = neu(CStoreResponse);
  failed.setStatus(0xa700);
  failed.setAffectedSopInstanceUid('1.2.3.4.5'); // odd length: padded
  failed.setMessageIdBeingRespondedTo(65535);
  failed.setErrorComment('store failed: no space');
  const pending = neu(CMoveResponse);
  pending.setStatus(0xff00);
  pending.setMessageIdBeingRespondedTo(1);
  (pending as unknown as { setRemaining(n: number): void }).setRemaining(199);
  (pending as unknown as { setCompleted(n: number): void }).setCompleted(1);
  (pending as unknown as { setFailures(n: number): void }).setFailures(0);
  (pending as unknown as { setWarnings(n: number): void }).setWarnings(0);
  const get = neu(CGetResponse);
  get.setStatus(0);
  const req = neu(CStoreRequest);
  req.setAffectedSopClassUid('1.2.840.10008.5.1.4.1.1.2');
  req.setAffectedSopInstanceUid('1.2.3.4.56');
  req.setMessageId(12);
  const moved = neu(CStoreRequest);
  moved.setAffectedSopInstanceUid('1.2.3');
  moved.setAffectedSopClassUid('1.2.840.10008.5.1.4.1.1.4');
  moved.setMessageId(3);
  moved.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', 'MEDIMGSHR');
  moved.getCommandDataset().setElement('MoveOriginatorMessageID', 1 as unknown as string);
  // what our Storage SCP / C-GET thread answer with (ErrorComment left undefined)
  const answer = CStoreResponse.fromRequest(req);
  answer.setStatus(0);
  return [
    answer,
    store,
    failed,
    pending,
    get,
    neu(CFindResponse),
    neu(CEchoResponse),
    req,
    moved,
    neu(CEchoRequest),
    CMoveRequest.createSeriesMoveRequest('DEST', '1.2.3', '1.2.3.4'),
    CGetRequest.createStudyGetRequest('1.2.3'),
    CFindRequest.createImageFindRequest({ StudyInstanceUID: '1.2', SOPInstanceUID: '' }),
  ];
}

describe('DIMSE command sets coded without dcmjs (dimse-wire.ts)', () => {
  it('encodes every command we send or answer with to the same bytes as dcmjs', () => {
    let coded = 0;
    for (const c of commands()) {
      const d = c.getCommandDataset();
      const ours = encodeCommandSet(d.getElements());
      if (ours === null) continue; // left to dcmjs
      coded++;
      expect(ours.toString('hex')).toBe(dcmjsEncode(d).toString('hex'));
    }
    expect(coded).toBeGreaterThanOrEqual(12);
  });

  it('decodes them to the same elements as dcmjs', () => {
    let coded = 0;
    for (const c of commands()) {
      const bytes = dcmjsEncode(c.getCommandDataset());
      const ours = decodeCommandSet(bytes);
      if (ours === null) continue;
      coded++;
      expect(ours).toEqual(dcmjsDecode(bytes));
    }
    expect(coded).toBeGreaterThanOrEqual(10);
  });

  it('leaves to dcmjs what it does not code (unknown or retired element, empty or multi-valued string, a data set)', () => {
    expect(encodeCommandSet({ CommandField: 1, RETIRED_Initiator: 'X' })).toBeNull();
    expect(encodeCommandSet({ CommandField: 1, AffectedSOPClassUID: '' })).toBeNull();
    expect(encodeCommandSet({ CommandField: 1, ErrorComment: 'a\\b' })).toBeNull();
    expect(encodeCommandSet({ CommandField: 1, Status: [0] })).toBeNull();
    expect(encodeCommandSet({ CommandField: 1, Status: 70000 })).toBeNull();
    const withAt = Buffer.from('0000010904000000', 'hex'); // (0000,0901) OffendingElement (AT)
    expect(decodeCommandSet(Buffer.concat([withAt, Buffer.alloc(4)]))).toBeNull();
    const dataSet = Buffer.from('080018000400000031" 2 ', 'latin1');
    expect(decodeCommandSet(dataSet)).toBeNull();
    expect(decodeCommandSet(Buffer.from('00000001020000', 'hex'))).toBeNull(); // cut short
  });
});

describe('PDU framing before the library accumulator', () => {
  const pdu = (type: number, body: Buffer) => {
    const h = Buffer.alloc(6);
    h[0] = type;
    h.writeUInt32BE(body.length, 2);
    return Buffer.concat([h, body]);
  };

  it('hands over exactly the PDUs, whatever the chunking', () => {
    const a = pdu(4, Buffer.alloc(300_000, 1));
    const b = pdu(4, Buffer.from('tiny'));
    const c = pdu(5, Buffer.alloc(4));
    const stream = Buffer.concat([a, b, c]);
    for (const cuts of [[], [3], [5, 6, 7], [65536, 131072, 196608, 262144, 300006, 300010], [300006, 300016], [300020]]) {
      const socket = new EventEmitter();
      const got: Buffer[] = [];
      socket.on('data', (x: Buffer) => got.push(Buffer.from(x)));
      framePdus({ socket });
      let o = 0;
      for (const cut of [...cuts, stream.length]) {
        socket.emit('data', stream.subarray(o, cut));
        o = cut;
      }
      expect(got.map((g) => g.toString('hex'))).toEqual([a, b, c].map((g) => g.toString('hex')));
    }
  });
});
