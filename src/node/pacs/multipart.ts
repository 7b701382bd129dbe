/**
 * A multipart/related body (PS3.18 8.7.1, RFC 2046 §5.1) split into its parts as the bytes arrive.
 * dicomweb-client's own multipart decoding needs the whole reply in memory (xhr2 gives nothing
 * before the end), so a series-level WADO-RS reply could only be used once every image had come;
 * this lets each instance be cached, indexed and shown while the rest is still on the wire.
 */

export interface MultipartPart {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The boundary parameter of a multipart Content-Type (quoted or not), or null. */
export function boundaryOf(contentType: string): string | null {
  if (!/^\s*multipart\//i.test(contentType)) return null;
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

export class MultipartSplitter {
  /** "\r\n--boundary": a body ends where this begins. */
  private readonly delimiter: Buffer;
  // the stream is read as if it began with CRLF, so a first boundary at offset 0 matches the delimiter too
  private buf: Buffer = Buffer.from(CRLF);
  private state: 'preamble' | 'delimiter-line' | 'headers' | 'body' | 'done' = 'preamble';
  private headers: Record<string, string> = {};
  /** Where the next search for the delimiter starts (bytes before it were searched already). */
  private from = 0;
  /** Chunks of the body being read (state 'body' between pushes); `buf` is empty then. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  parts = 0;

  constructor(
    boundary: string,
    private readonly onPart: (part: MultipartPart) => void,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Uint8Array): void {
    if (this.state === 'done') return; // the epilogue is ignored
    const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.state === 'body') {
      // A body spans many chunks: they are kept as they come and joined once, when its delimiter is
      // found (joining on every chunk copied a 0.5 MB image ~8 times). Only the tail of what came
      // before is searched again, in case the delimiter straddles two chunks.
      const keep = Math.min(this.delimiter.length - 1, this.pendingLength);
      const tail = keep > 0 ? this.tail(keep) : null;
      const probe = tail ? Buffer.concat([tail, c.subarray(0, this.delimiter.length - 1)]) : null;
      const inProbe = probe ? probe.indexOf(this.delimiter) : -1;
      // relative to c (negative: the delimiter starts in the pending bytes)
      const at = inProbe >= 0 ? inProbe - keep : c.indexOf(this.delimiter);
      if (inProbe < 0 && at < 0) {
        this.pending.push(c);
        this.pendingLength += c.length;
        return;
      }
      const bodyEnd = this.pendingLength + at;
      const all = this.pending.length === 0 ? c : Buffer.concat([...this.pending, c]);
      this.pending = [];
      this.pendingLength = 0;
      this.parts++;
      this.onPart({ headers: this.headers, body: all.subarray(0, bodyEnd) });
      this.buf = all.subarray(bodyEnd + this.delimiter.length);
      this.from = 0;
      this.state = 'delimiter-line';
    } else {
      this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    }
    this.parse();
  }

  /** The last n bytes of the pending body chunks. */
  private tail(n: number): Buffer {
    const out = Buffer.alloc(n);
    let left = n;
    for (let i = this.pending.length - 1; i >= 0 && left > 0; i--) {
      const p = this.pending[i]!;
      const take = Math.min(left, p.length);
      p.copy(out, left - take, p.length - take);
      left -= take;
    }
    return out;
  }

  /** Consumes what `buf` holds; a body not yet complete moves to `pending`. */
  private parse(): void {
    for (;;) {
      if (this.state === 'preamble' || this.state === 'body') {
        const at = this.buf.indexOf(this.delimiter, this.from);
        if (at < 0) {
          if (this.state === 'body') {
            // the rest of this body comes in later chunks (push() takes it from here)
            if (this.buf.length) this.pending.push(this.buf);
            this.pendingLength = this.buf.length;
            this.buf = Buffer.alloc(0);
          } else this.from = Math.max(0, this.buf.length - this.delimiter.length + 1);
          return;
        }
        if (this.state === 'body') {
          this.parts++;
          // a view: `buf` is never written to (each push concatenates into a new buffer)
          this.onPart({ headers: this.headers, body: this.buf.subarray(0, at) });
        }
        this.buf = this.buf.subarray(at + this.delimiter.length);
        this.from = 0;
        this.state = 'delimiter-line';
      }
      if (this.state === 'delimiter-line') {
        if (this.buf.length < 2) return;
        if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
          this.state = 'done';
          this.buf = Buffer.alloc(0);
          return;
        }
        // transport padding (spaces) may follow the boundary, then CRLF
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) return;
        // keep the CRLF: a part with no headers is boundary CRLF CRLF body
        this.buf = this.buf.subarray(eol);
        this.state = 'headers';
      }
      if (this.state === 'headers') {
        const end = this.buf.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buf.length > 64 * 1024) throw new Error('a multipart part has no end of its headers');
          return;
        }
        this.headers = {};
        for (const line of this.buf.toString('latin1', 2, end).split('\r\n')) {
          const c = line.indexOf(':');
          if (c > 0) this.headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
        }
        // the delimiter search starts at the body's first byte, so an empty body is found too
        this.buf = this.buf.subarray(end + HEADER_END.length);
        this.from = 0;
        this.state = 'body';
      }
    }
  }

  /** The reply ended: throws when it was cut off before its closing boundary. */
  end(): void {
    if (this.state !== 'done') {
      throw new Error(this.parts === 0 && this.state === 'preamble' ? 'the reply has no multipart boundary' : `the reply ended before its closing boundary (after ${this.parts} part(s))`);
    }
  }
}
