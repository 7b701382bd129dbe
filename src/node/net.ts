import { createServer } from 'node:net';

/** Asks the OS for a free TCP port on the loopback interface. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One JSON-RPC call with a deadline; throws on transport errors, timeouts and RPC errors. */
export async function jsonRpc<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 2000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  const body = (await res.json()) as { result?: T; error?: { message?: string } };
  if (body.error) throw new Error(body.error.message ?? 'JSON-RPC error');
  return body.result as T;
}

/**
 * Why a network call failed, as a few plain words without a trailing period ("nothing is listening
 * at that address", "no answer within 2 s"), instead of Node's bare "fetch failed".
 */
export function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } } | null;
  const code = e?.cause?.code ?? e?.code ?? '';
  const msg = `${e?.message ?? String(err)}`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed? ?out|aborted due to timeout/i.test(msg)) return 'no answer in time';
  if (code === 'ECONNREFUSED') return 'nothing is listening at that address';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name cannot be resolved';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was dropped';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'the host cannot be reached on the network';
  if (code.startsWith('CERT_') || code.includes('TLS') || code.includes('SSL')) return 'its TLS certificate is not accepted';
  const http = /^HTTP (\d+) from /.exec(msg);
  if (http) return `it answered HTTP ${http[1]}, not as a JSON-RPC ledger node`;
  if (/^fetch failed$/i.test(msg) && e?.cause?.message) return e.cause.message.replace(/\.+$/, '');
  if (/^fetch failed$/i.test(msg)) return 'the connection failed';
  return msg.replace(/\.+$/, '');
}
