/**
 * One WADO-RS study / series request read as it streams in: each part of the multipart/related
 * reply is handed over as soon as its closing boundary is here. DicomWebClient.retrieveStream runs
 * it on the main thread; the WADO thread (wado-stream.worker.ts) runs the same function, writing
 * each part into the cache there. Only light imports (the WADO thread bundles this file).
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { httpStatusError, networkError, PacsError, PacsReason } from './errors';
import { boundaryOf, MultipartSplitter } from './multipart';
import { isPart10 } from './part10-meta';

export interface WadoStreamRequest {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Names the server in network errors. */
  where: { host: string; port: string; what: string };
}

export interface WadoStreamHandlers {
  /** A Part-10 part; may return a promise: the reply is paused until it settles. */
  onInstance: (file: Buffer) => void | Promise<unknown>;
  onNotDicom?: (index: number) => void;
}

/** The study / series URL of a WADO-RS retrieve. */
export const wadoUrl = (root: string, study: string, series: string | null): string => `${root}/studies/${study}${series ? `/series/${series}` : ''}`;

/** Streams the reply of `r.url` (transfer-syntax=*, the stored encoding); resolves with the number of parts. */
export function streamWado(r: WadoStreamRequest, agent: HttpAgent | HttpsAgent, handlers: WadoStreamHandlers, opts: { signal?: AbortSignal } = {}): Promise<number> {
  const { url, where } = r;
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (err: PacsError | null, n = 0) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(n);
    };
    const onAbort = () => settle(new PacsError(PacsReason.Cancelled, 'The PACS operation was cancelled.'));
    const req = send(u, {
      method: 'GET',
      agent,
      headers: { ...r.headers, Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    // idle limit, as for every other request: a server that stops sending is "timed out"
    req.setTimeout(r.timeoutMs, () => settle(networkError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), where)));
    req.on('error', (err) => settle(opts.signal?.aborted ? new PacsError(PacsReason.Cancelled, 'The PACS operation was cancelled.') : networkError(err, where)));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (d: string) => (body = (body + d).slice(0, 300)));
        res.on('end', () => settle(httpStatusError(status, url, 'object', body)));
        return;
      }
      const boundary = boundaryOf(String(res.headers['content-type'] ?? ''));
      if (!boundary) {
        res.resume();
        settle(new PacsError(PacsReason.NotDicom, `The reply from ${url} is not multipart (Content-Type "${res.headers['content-type'] ?? ''}").`, 'Check that the URL is the DICOMweb root; show this message to the PACS administrator.'));
        return;
      }
      const splitter = new MultipartSplitter(boundary, (part) => {
        if (settled) return;
        if (isPart10(part.body)) {
          const wait = handlers.onInstance(part.body);
          if (wait) {
            res.pause();
            const go = () => {
              if (!settled) res.resume();
            };
            wait.then(go, go);
          }
        } else handlers.onNotDicom?.(splitter.parts - 1);
      });
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        try {
          splitter.push(chunk);
        } catch (err) {
          settle(new PacsError(PacsReason.NotDicom, `The reply from ${url} could not be read as DICOMweb: ${err instanceof Error ? err.message : String(err)}.`, 'Retrieve again; show this message to the PACS administrator if it stays.'));
        }
      });
      res.on('end', () => {
        try {
          splitter.end();
          settle(null, splitter.parts);
        } catch (err) {
          settle(new PacsError(PacsReason.ConnectionLost, `The reply from ${url} was cut off: ${err instanceof Error ? err.message : String(err)}.`, 'Retrieve again; only what is missing is fetched.'));
        }
      });
      res.on('error', (err) => settle(networkError(err, where)));
      res.on('aborted', () => settle(new PacsError(PacsReason.ConnectionLost, `The connection to ${where.host}:${where.port} was lost during the reply from ${url}.`, 'Retrieve again; only what is missing is fetched.')));
    });
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
