/**
 * A PACS whose images arrive only as fast as the test lets them: an HTTP relay on loopback in
 * front of a real Orthanc that forwards every request and answer unchanged, but holds the bytes
 * of DICOM retrieve answers (multipart/related) beyond an allowance the test raises step by step.
 * A spec can then assert what the viewer shows *while* a retrieve runs without depending on how
 * fast the machine is (the retrieve cannot finish before the test releases it).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldPacs {
  /** base URL of the relay (same path layout as the target's) */
  url: string;
  /** retrieve bytes let through so far */
  passed(): number;
  /** let through up to this many retrieve bytes in all (Infinity: everything) */
  allow(bytes: number): void;
  stop(): Promise<void>;
}

export async function holdPacs(targetBase: string, initialAllowance: number): Promise<HeldPacs> {
  const target = new URL(targetBase);
  let allowance = initialAllowance;
  let passed = 0;
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiting]) w();
  };

  /** Writes a retrieve answer's bytes as the allowance permits (the rest waits in memory). */
  const relayHeld = (up: IncomingMessage, res: ServerResponse) => {
    const queue: Buffer[] = [];
    let ended = false;
    const drain = () => {
      waiting.delete(drain);
      while (queue.length > 0) {
        const room = allowance - passed;
        if (room <= 0) {
          waiting.add(drain);
          return;
        }
        const chunk = queue[0]!;
        const n = Math.min(room, chunk.length);
        res.write(chunk.subarray(0, n));
        passed += n;
        if (n === chunk.length) queue.shift();
        else queue[0] = chunk.subarray(n);
      }
      if (ended) res.end();
    };
    up.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      drain();
    });
    up.on('end', () => {
      ended = true;
      drain();
    });
  };

  const server = createServer((req, res) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (String(up.headers['content-type'] ?? '').startsWith('multipart/related')) relayHeld(up, res);
        else up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const prefix = target.pathname.replace(/\/$/, '');
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    passed: () => passed,
    allow(bytes) {
      allowance = bytes;
      wake();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        allowance = Infinity;
        wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
