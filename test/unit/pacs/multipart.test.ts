import { describe, expect, it } from 'vitest';
import { boundaryOf, MultipartSplitter, type MultipartPart } from '../../../src/node/pacs/multipart';

const body = (boundary: string, parts: { headers?: string; body: Buffer }[], preamble = '') =>
  Buffer.concat([
    Buffer.from(preamble, 'latin1'),
    ...parts.flatMap((p, i) => [Buffer.from(`${i === 0 && !preamble ? '' : '\r\n'}--${boundary}\r\n${p.headers ?? 'Content-Type: application/dicom'}\r\n\r\n`, 'latin1'), p.body]),
    Buffer.from(`\r\n--${boundary}--\r\nepilogue`, 'latin1'),
  ]);

/** Feeds `msg` in chunks of `size` bytes and returns the parts. */
function split(boundary: string, msg: Buffer, size: number): { parts: MultipartPart[]; s: MultipartSplitter } {
  const parts: MultipartPart[] = [];
  const s = new MultipartSplitter(boundary, (p) => parts.push({ headers: p.headers, body: Buffer.from(p.body) }));
  for (let i = 0; i < msg.length; i += size) s.push(msg.subarray(i, i + size));
  return { parts, s };
}

describe('multipart/related split as it streams', () => {
  const a = Buffer.from('DICM-a\r\n--not-the-boundary\r\n', 'latin1');
  const b = Buffer.alloc(5000, 7);
  const c = Buffer.from('\r\n-', 'latin1'); // a part that ends like the start of a delimiter
  const msg = body('xyz123', [{ body: a }, { body: b, headers: 'Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: 5000' }, { body: c }]);

  for (const size of [1, 2, 3, 7, 64, 1000, msg.length]) {
    it(`every part, byte for byte, headers parsed (chunks of ${size} bytes)`, () => {
      const { parts, s } = split('xyz123', msg, size);
      expect(parts.map((p) => p.body.toString('latin1'))).toEqual([a, b, c].map((x) => x.toString('latin1')));
      expect(parts[1]!.headers).toEqual({ 'content-type': 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1', 'content-length': '5000' });
      expect(s.done).toBe(true);
      expect(() => s.end()).not.toThrow();
      expect(s.parts).toBe(3);
    });
  }

  it('images of many chunks, the delimiter split across chunks at every offset: each part whole', () => {
    // a body is kept as its chunks and joined once; the delimiter may start in an earlier chunk
    const big = [Buffer.alloc(70_001, 1), Buffer.alloc(65_536, 2), Buffer.alloc(3, 3)];
    big[0]![500] = 0x0d; // CR LF - - inside the image, not a delimiter
    big[0]![501] = 0x0a;
    big[0]![502] = 0x2d;
    big[0]![503] = 0x2d;
    const m = body('xyz123', big.map((x) => ({ body: x })));
    for (const size of [4096, 4097, 65_536, 65_539, 9, 10, 11]) {
      const { parts, s } = split('xyz123', m, size);
      expect(parts.map((p) => p.body.length), `chunks of ${size}`).toEqual([70_001, 65_536, 3]);
      expect(parts.every((p, i) => p.body.equals(big[i]!)), `chunks of ${size}`).toBe(true);
      expect(s.done).toBe(true);
    }
  });

  it('a preamble before the first boundary and an empty part', () => {
    const m = body('b', [{ body: Buffer.alloc(0) }, { body: Buffer.from('x') }], 'preamble text');
    const { parts } = split('b', m, 4);
    expect(parts.map((p) => p.body.toString())).toEqual(['', 'x']);
  });

  it('a reply cut off mid-part: the parts before it are delivered, end() says it was cut off', () => {
    const cut = msg.subarray(0, msg.length - 2000);
    const { parts, s } = split('xyz123', cut, 100);
    expect(parts).toHaveLength(1);
    expect(() => s.end()).toThrow(/ended before its closing boundary \(after 1 part\(s\)\)/);
  });

  it('a reply with no boundary at all', () => {
    const { parts, s } = split('xyz123', Buffer.from('<html>not multipart</html>'), 5);
    expect(parts).toHaveLength(0);
    expect(() => s.end()).toThrow(/no multipart boundary/);
  });

  it('the boundary from a Content-Type, quoted or not', () => {
    expect(boundaryOf('multipart/related; type="application/dicom"; boundary=abc-123')).toBe('abc-123');
    expect(boundaryOf('Multipart/Related;boundary="a b";type=application/dicom')).toBe('a b');
    expect(boundaryOf('application/dicom')).toBeNull();
    expect(boundaryOf('multipart/related; type="application/dicom"')).toBeNull();
  });
});
