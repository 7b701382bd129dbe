/**
 * Two costs of dcmjs-dimse 0.3.3 on the path of every image of a C-GET / C-MOVE (each C-STORE
 * response waits for them, and the PACS sends the next image only after that response):
 *
 *   command sets  every DIMSE command (C-STORE request / response, C-MOVE / C-GET pending
 *                 responses) goes through dcmjs: two 256 KiB zero-filled write buffers per encoded
 *                 command (about 0.5 ms each, plus the garbage collection of those buffers) and a
 *                 generic read + naturalize per decoded one. Command sets are a few group-0000
 *                 elements in Implicit VR Little Endian; the common ones are coded here directly,
 *                 anything else (a retired or multi-valued element, an empty value) still goes to dcmjs.
 *   PDU framing   the library's accumulator joins every socket chunk to what it holds of the PDU
 *                 (Buffer.concat per chunk: quadratic in the chunks of a PDU, a 256 KiB PDU of 64 KiB
 *                 chunks is copied 2.5 times); framePdus hands it whole PDUs, each joined at most once.
 */
import dimse from 'dcmjs-dimse';

type Vr = 'UL' | 'US' | 'UI' | 'AE' | 'LO';
/** Group-0000 elements coded here (name as dcmjs naturalizes it; element number; VR). */
const COMMAND_ELEMENTS: [string, number, Vr][] = [
  ['CommandGroupLength', 0x0000, 'UL'],
  ['AffectedSOPClassUID', 0x0002, 'UI'],
  ['RequestedSOPClassUID', 0x0003, 'UI'],
  ['CommandField', 0x0100, 'US'],
  ['MessageID', 0x0110, 'US'],
  ['MessageIDBeingRespondedTo', 0x0120, 'US'],
  ['MoveDestination', 0x0600, 'AE'],
  ['Priority', 0x0700, 'US'],
  ['CommandDataSetType', 0x0800, 'US'],
  ['Status', 0x0900, 'US'],
  ['ErrorComment', 0x0902, 'LO'],
  ['ErrorID', 0x0903, 'US'],
  ['AffectedSOPInstanceUID', 0x1000, 'UI'],
  ['RequestedSOPInstanceUID', 0x1001, 'UI'],
  ['EventTypeID', 0x1002, 'US'],
  ['ActionTypeID', 0x1008, 'US'],
  ['NumberOfRemainingSuboperations', 0x1020, 'US'],
  ['NumberOfCompletedSuboperations', 0x1021, 'US'],
  ['NumberOfFailedSuboperations', 0x1022, 'US'],
  ['NumberOfWarningSuboperations', 0x1023, 'US'],
  ['MoveOriginatorApplicationEntityTitle', 0x1030, 'AE'],
  ['MoveOriginatorMessageID', 0x1031, 'US'],
];
const BY_NAME = new Map(COMMAND_ELEMENTS.map(([n, e, vr]) => [n, { e, vr }]));
const BY_ELEMENT = new Map(COMMAND_ELEMENTS.map(([n, e, vr]) => [e, { n, vr }]));
/** A string value as dcmjs reads it back: no backslash (one value), no leading space, only padding (NUL / space) at the end. */
const PLAIN = /^[^\\\0 ][^\\\0]*?[\0 ]*$/;
const PLAIN_VALUE = /^[^\\\0 ](?:[^\\\0]*[^\\\0 ])?$/;

/**
 * A command set's bytes (with its group length first), as getDenaturalizedCommandDataset writes
 * them; null when an element is not one coded here (dcmjs then writes it).
 */
export function encodeCommandSet(elements: Record<string, unknown>): Buffer | null {
  const items: { e: number; value: Buffer }[] = [];
  for (const [name, v] of Object.entries(elements)) {
    if (name === '_vrMap' || v === undefined) continue; // dcmjs writes no element for an undefined value
    const d = BY_NAME.get(name);
    if (!d || d.e === 0x0000) return null;
    let value: Buffer;
    if (d.vr === 'US') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) return null;
      value = Buffer.allocUnsafe(2);
      value.writeUInt16LE(v);
    } else {
      if (typeof v !== 'string' || !PLAIN_VALUE.test(v) || !/^[\x20-\x7e]*$/.test(v)) return null;
      value = Buffer.from(v.length % 2 ? v + (d.vr === 'UI' ? '\0' : ' ') : v, 'latin1');
    }
    items.push({ e: d.e, value });
  }
  items.sort((a, b) => a.e - b.e);
  const groupLength = items.reduce((n, i) => n + 8 + i.value.length, 0);
  const out = Buffer.allocUnsafe(12 + groupLength);
  out.writeUInt32LE(0x00000000, 0); // (0000,0000)
  out.writeUInt32LE(4, 4);
  out.writeUInt32LE(groupLength, 8);
  let o = 12;
  for (const i of items) {
    out.writeUInt16LE(0x0000, o);
    out.writeUInt16LE(i.e, o + 2);
    out.writeUInt32LE(i.value.length, o + 4);
    i.value.copy(out, o + 8);
    o += 8 + i.value.length;
  }
  return out;
}

/** A command set's elements as dcmjs naturalizes them; null when it holds anything not coded here. */
export function decodeCommandSet(b: Uint8Array): Record<string, unknown> | null {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: Record<string, unknown> = { _vrMap: {} };
  let o = 0;
  while (o < buf.length) {
    if (o + 8 > buf.length) return null;
    const g = buf.readUInt16LE(o);
    const e = buf.readUInt16LE(o + 2);
    const len = buf.readUInt32LE(o + 4);
    o += 8;
    const d = BY_ELEMENT.get(e);
    if (g !== 0x0000 || !d || len === 0 || o + len > buf.length) return null;
    if (d.n in out) return null;
    if (d.vr === 'UL') {
      if (len !== 4) return null;
      out[d.n] = buf.readUInt32LE(o);
    } else if (d.vr === 'US') {
      if (len !== 2) return null;
      out[d.n] = buf.readUInt16LE(o);
    } else {
      const s = buf.toString('latin1', o, o + len);
      if (!PLAIN.test(s) || !/^[\x20-\x7e\0]*$/.test(s)) return null;
      out[d.n] = s.replace(/[\0 ]+$/, '');
    }
    o += len;
  }
  return out;
}

let patched = false;
/** Codes command sets here (dcmjs still for what is not coded here). Once per thread; idempotent. */
export function fastCommandSets(): void {
  if (patched) return;
  patched = true;
  type Ds = { getElements(): Record<string, unknown>; getDenaturalizedCommandDataset(...a: unknown[]): Buffer; _fromElementsBuffer(b: Buffer, ts: string, o: unknown): Record<string, unknown> };
  const proto = dimse.Dataset.prototype as unknown as Ds;
  const encode = proto.getDenaturalizedCommandDataset;
  const decode = proto._fromElementsBuffer;
  if (typeof encode !== 'function' || typeof decode !== 'function') return;
  proto.getDenaturalizedCommandDataset = function (this: Ds, ...a: unknown[]) {
    return encodeCommandSet(this.getElements()) ?? encode.apply(this, a);
  };
  const implicitLe = dimse.constants.TransferSyntax.ImplicitVRLittleEndian;
  proto._fromElementsBuffer = function (this: Ds, b: Buffer, ts: string, o: unknown) {
    // a command set: Implicit VR Little Endian, group 0000 first (data sets never have group 0000)
    const fast = ts === implicitLe && b.length >= 8 && b.readUInt16LE(0) === 0x0000 ? decodeCommandSet(b) : null;
    return fast ?? decode.call(this, b, ts, o);
  };
}

/**
 * Feeds the network's PDU accumulator whole PDUs (the socket's 'data' listener that dcmjs-dimse's
 * Network added in its constructor is wrapped): a PDU that came in one chunk goes as a view of it,
 * one that spans chunks is joined once.
 */
export function framePdus(network: object): void {
  const socket = (network as { socket?: { listeners(e: 'data'): ((b: Buffer) => void)[]; removeListener(e: 'data', l: (b: Buffer) => void): void; on(e: 'data', l: (b: Buffer) => void): void } }).socket;
  if (!socket) return;
  const ls = socket.listeners('data');
  if (ls.length !== 1) return; // not the library's one listener: leave it
  const deliver = ls[0]!;
  socket.removeListener('data', deliver);
  let chunks: Buffer[] = [];
  let held = 0;
  const header = (): number | null => {
    if (held < 6) return null;
    if (chunks[0]!.length < 6) chunks = [Buffer.concat(chunks, held)];
    return chunks[0]!.readUInt32BE(2) + 6;
  };
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    held += chunk.length;
    for (let need = header(); need !== null && held >= need; need = header()) {
      const first = chunks[0]!;
      let pdu: Buffer;
      if (first.length >= need) {
        pdu = first.subarray(0, need);
        if (first.length === need) chunks.shift();
        else chunks[0] = first.subarray(need);
      } else {
        pdu = Buffer.allocUnsafe(need);
        let o = 0;
        while (o < need) {
          const c = chunks[0]!;
          const take = Math.min(c.length, need - o);
          c.copy(pdu, o, 0, take);
          o += take;
          if (take === c.length) chunks.shift();
          else chunks[0] = c.subarray(take);
        }
      }
      held -= need;
      deliver(pdu);
    }
  });
}
