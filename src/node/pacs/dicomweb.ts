/**
 * DICOMweb (QIDO-RS, WADO-RS, STOW-RS) through `dicomweb-client`, the client OHIF uses, on Node
 * with `xhr2`. This file adds what the library leaves to its caller: authentication headers, a
 * per-connection CA, time limits, cancellation, and the precise reason of each failure (xhr2 drops
 * the socket error; we keep it, so "DNS name not found" is not reported as "request failed").
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as dicomweb from 'dicomweb-client';
import XMLHttpRequest from 'xhr2';
import { httpStatusError, networkError, PacsError, PacsReason } from './errors';
import type { Credentials, DicomWebSettings } from './connections';
import type { WrittenFile } from './cache-file';
import { isPart10 } from './part10-meta';
import { streamInThread } from './wado-thread';
import { streamWado, wadoUrl, type WadoStreamRequest } from './wado-stream';

/** A DICOM JSON object (PS3.18 F.2): tag → { vr, Value }. */
export type DicomJson = Record<string, { vr: string; Value?: unknown[]; InlineBinary?: string; BulkDataURI?: string } | undefined>;

export interface DicomWebTarget extends DicomWebSettings, Credentials {
  timeoutMs: number;
}

type XhrRequest = { instance: XMLHttpRequest; progressCallback?: (e: { loaded: number }) => void };

interface Probe {
  xhr: XMLHttpRequest;
  networkError: unknown;
  timedOut: boolean;
  /** Detaches from the caller's signal (one listener per request would pile up on a long retrieve). */
  done(): void;
}

/** The query keys of a study search (QIDO-RS attribute matching, PS3.18 8.3.4). */
export interface QidoParams {
  [key: string]: string | number | undefined;
}

export class DicomWebClient {
  private readonly client: dicomweb.api.DICOMwebClient;
  private readonly agent: HttpAgent | HttpsAgent;
  readonly url: string;
  private readonly host: string;
  private readonly port: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly target: DicomWebTarget) {
    this.url = target.url.replace(/\/+$/, '');
    const u = new URL(this.url);
    this.host = u.hostname;
    this.port = u.port || (u.protocol === 'https:' ? '443' : '80');
    this.agent =
      u.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...(target.caPem ? { ca: [...rootCertificates, target.caPem] } : {}) })
        : new HttpAgent({ keepAlive: true, maxSockets: 8 });
    const headers: Record<string, string> = {};
    if (target.auth === 'basic') headers.Authorization = `Basic ${Buffer.from(`${target.username ?? ''}:${target.secret ?? ''}`).toString('base64')}`;
    if (target.auth === 'bearer') headers.Authorization = `Bearer ${target.secret ?? ''}`;
    this.headers = headers;
    this.client = new dicomweb.api.DICOMwebClient({ url: this.url, headers, verbose: false, singlepart: false });
  }

  close(): void {
    this.agent.destroy();
  }

  /** An xhr2 request bound to this connection's agent, time limit and the caller's signal. */
  private probe(signal?: AbortSignal): Probe {
    const xhr = new XMLHttpRequest();
    xhr.nodejsSet({ httpAgent: this.agent as HttpAgent, httpsAgent: this.agent as HttpsAgent });
    xhr.timeout = this.target.timeoutMs;
    const onAbort = () => xhr.abort();
    const p: Probe = { xhr, networkError: null, timedOut: false, done: () => signal?.removeEventListener('abort', onAbort) };
    // xhr2 reports a socket error as status 0 and drops it; keep it to say what failed.
    const inner = xhr as unknown as { _onHttpRequestError?: (req: unknown, err: unknown) => unknown };
    const orig = inner._onHttpRequestError;
    if (typeof orig === 'function') {
      inner._onHttpRequestError = function (this: unknown, req: unknown, err: unknown) {
        p.networkError = err;
        return orig.call(this, req, err);
      };
    }
    xhr.addEventListener('timeout', () => (p.timedOut = true));
    if (signal) {
      if (signal.aborted) queueMicrotask(() => xhr.abort());
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return p;
  }

  /** Runs one dicomweb-client call and turns every failure into a precise PacsError. */
  private async call<T>(url: string, level: 'probe' | 'root' | 'object', fn: (request: XhrRequest) => Promise<T>, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<T> {
    const p = this.probe(opts.signal);
    // xhr2's abort() does not always settle dicomweb-client's promise (a request cancelled mid-flight
    // would wait for ever): a cancel rejects on its own
    let onCancel: (() => void) | null = null;
    const cancelled = new Promise<never>((_, reject) => {
      onCancel = () => reject(new PacsError(PacsReason.Cancelled, 'The PACS operation was cancelled.'));
      if (opts.signal?.aborted) onCancel();
      else opts.signal?.addEventListener('abort', onCancel, { once: true });
    });
    cancelled.catch(() => {});
    try {
      return await Promise.race([fn({ instance: p.xhr, ...(opts.onBytes ? { progressCallback: (e) => opts.onBytes!(e.loaded) } : {}) }), cancelled]);
    } catch (err) {
      if (opts.signal?.aborted) throw new PacsError(PacsReason.Cancelled, 'The PACS operation was cancelled.');
      const where = { host: this.host, port: this.port, what: 'the DICOMweb server' };
      if (p.timedOut) throw networkError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), where);
      if (p.networkError) throw networkError(p.networkError, where);
      const status = (err as { status?: number }).status;
      if (typeof status === 'number' && status > 0) {
        const body = (err as { response?: unknown }).response;
        const snippet = typeof body === 'string' ? body.slice(0, 300) : body instanceof ArrayBuffer ? Buffer.from(body.slice(0, 300)).toString('latin1') : '';
        throw httpStatusError(status, url, level, snippet);
      }
      if (err instanceof PacsError) throw err;
      // not an HTTP status and not a socket error: the reply could not be decoded (malformed multipart, …)
      throw new PacsError(PacsReason.NotDicom, `The reply from ${url} could not be read as DICOMweb: ${err instanceof Error ? err.message : String(err)}.`, 'Check that the URL is the DICOMweb root; show this message to the PACS administrator.');
    } finally {
      p.done();
      if (onCancel) opts.signal?.removeEventListener('abort', onCancel);
    }
  }

  private async qido(path: string, params: QidoParams, level: 'probe' | 'root' | 'object', signal?: AbortSignal): Promise<DicomJson[]> {
    const queryParams = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string | number>;
    const url = `${this.url}${path}`;
    const method =
      path === '/studies'
        ? (request: XhrRequest) => this.client.searchForStudies({ queryParams, request } as never)
        : (request: XhrRequest) => {
            const m = /^\/studies\/([^/]+)(?:\/series\/([^/]+))?\/(series|instances)$/.exec(path)!;
            return m[3] === 'series'
              ? this.client.searchForSeries({ studyInstanceUID: m[1], queryParams, request } as never)
              : this.client.searchForInstances({ studyInstanceUID: m[1], ...(m[2] ? { seriesInstanceUID: m[2] } : {}), queryParams, request } as never);
          };
    const r = (await this.call(url, level, method as unknown as (request: XhrRequest) => Promise<unknown>, { signal })) as unknown;
    if (!Array.isArray(r)) {
      throw new PacsError(
        PacsReason.NotDicomWeb,
        `${this.url} answered, but not with DICOM JSON: it is not a DICOMweb endpoint.`,
        'Check that the URL ends at the DICOMweb root (for Orthanc: …/dicom-web), not at the server\'s home page.',
      );
    }
    return r as DicomJson[];
  }

  /** Connection test: one QIDO-RS study query (limit 1). */
  async test(signal?: AbortSignal): Promise<{ studiesSeen: number }> {
    const r = await this.qido('/studies', { limit: 1 }, 'probe', signal);
    return { studiesSeen: r.length };
  }

  /**
   * QIDO-RS study search. A person name with "^" or "?" (DOE^J?N*) that matches nothing is asked
   * once more with each of them as "*", and the answer filtered to the name as typed: Orthanc 1.10's
   * DICOMweb plugin does not percent-decode query values (measured: PatientName=CompressedSamples%5ECT1,
   * …%3FCT1 and …%2ACT1 → []; the same sent raw → the study), and dicomweb-client encodes "^" and
   * "?" (xhr2 would re-encode a raw "^"), while "*" travels as itself.
   */
  async searchStudies(params: QidoParams, signal?: AbortSignal): Promise<DicomJson[]> {
    const rows = await this.qido('/studies', params, 'root', signal);
    const name = String(params.PatientName ?? '');
    if (rows.length > 0 || !/[?^]/.test(name)) return rows;
    const again = await this.qido('/studies', { ...params, PatientName: name.replace(/[?^]/g, '*') }, 'root', signal);
    const exact = new RegExp(`^${name.replace(/[.+()|[\]{}$\\^]/g, (c) => `\\${c}`).replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    return again.filter((o) => exact.test(jsonValue(o, '00100010') ?? ''));
  }

  searchSeries(studyInstanceUid: string, params: QidoParams = {}, signal?: AbortSignal): Promise<DicomJson[]> {
    return this.qido(`/studies/${studyInstanceUid}/series`, params, 'object', signal);
  }

  searchInstances(studyInstanceUid: string, seriesInstanceUid: string | null, params: QidoParams = {}, signal?: AbortSignal): Promise<DicomJson[]> {
    return this.qido(`/studies/${studyInstanceUid}${seriesInstanceUid ? `/series/${seriesInstanceUid}` : ''}/instances`, params, 'object', signal);
  }

  /**
   * WADO-RS of one instance in its stored encoding (`transfer-syntax=*`), as a Part-10 file.
   * Throws NOT_DICOM for a part that is not a Part-10 object.
   */
  async retrieveInstance(study: string, series: string, sop: string, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<Uint8Array> {
    const url = `${this.url}/studies/${study}/series/${series}/instances/${sop}`;
    const r = (await this.call(
      url,
      'object',
      // dicomweb-client 0.11.3's retrieveInstance rejects every `mediaTypes` (it compares "application/"
      // with "application/dicom"), so the transfer-syntax=* request goes through the method it would call.
      (request) =>
        (
          this.client as unknown as { _httpGetMultipartApplicationDicom(url: string, mediaTypes: unknown, params: unknown, request: unknown): Promise<unknown[]> }
        )
          ._httpGetMultipartApplicationDicom(url, [{ mediaType: 'application/dicom', transferSyntaxUID: '*' }], false, request)
          .then((parts) => parts[0]),
      opts,
    )) as unknown;
    const bytes = r instanceof ArrayBuffer ? new Uint8Array(r) : ArrayBuffer.isView(r) ? new Uint8Array(r.buffer, r.byteOffset, r.byteLength) : null;
    if (!bytes || !isPart10(bytes)) {
      throw new PacsError(PacsReason.NotDicom, `The PACS sent something that is not a DICOM file for instance ${sop}.`, 'The other instances go on; tell the PACS administrator about this instance.');
    }
    return bytes;
  }

  /**
   * WADO-RS of a whole study or series in one request (`transfer-syntax=*`), each instance handed to
   * `onInstance` as its part arrives (dicomweb-client would hand over all of them at the end only; see
   * multipart.ts). A part that is not a Part-10 object goes to `onNotDicom`, the rest goes on.
   * Resolves with the number of parts when the reply is complete; a reply cut off, malformed or
   * refused rejects with a PacsError (what arrived before stays arrived).
   */
  retrieveStream(
    study: string,
    series: string | null,
    /** `onInstance` may return a promise: the reply is paused until it settles (the first image is indexed before the rest is read) */
    handlers: { onInstance: (file: Uint8Array) => void | Promise<unknown>; onNotDicom?: (index: number) => void },
    opts: { signal?: AbortSignal } = {},
  ): Promise<number> {
    return streamWado(this.streamRequest(study, series), this.agent, handlers, opts);
  }

  private streamRequest(study: string, series: string | null): WadoStreamRequest {
    return { url: wadoUrl(this.url, study, series), headers: this.headers, timeoutMs: this.target.timeoutMs, where: { host: this.host, port: this.port, what: 'the DICOMweb server' } };
  }

  /**
   * retrieveStream in the WADO thread (wado-thread.ts), which also names each part by its SHA-256
   * and writes it into the cache folder `cacheDir`: this thread gets each instance as a written file
   * (with its SOP Instance UID, null when the part has none), not its bytes. The reply is paused
   * after the first part until its onInstance promise (if any) settles. Null when the thread
   * cannot run (no bundle: tests from the sources), so the caller streams here (retrieveStream).
   */
  retrieveStreamToCache(
    study: string,
    series: string | null,
    cacheDir: string,
    handlers: { onInstance: (file: WrittenFile, sopInstanceUid: string | null) => void | Promise<unknown>; onWriteFailed: (sopInstanceUid: string | null, message: string) => void; onNotDicom?: (index: number) => void },
    opts: { signal?: AbortSignal } = {},
  ): Promise<number> | null {
    return streamInThread({ ...this.streamRequest(study, series), ...(this.target.caPem ? { caPem: this.target.caPem } : {}) }, cacheDir, handlers, opts);
  }

  /** STOW-RS of Part-10 files to /studies; returns the server's DICOM JSON response (or null). */
  async store(files: Uint8Array[], signal?: AbortSignal): Promise<DicomJson | null> {
    const datasets = files.map((f) => f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
    const r = (await this.call(`${this.url}/studies`, 'root', (request) => this.client.storeInstances({ datasets, request } as never) as Promise<unknown>, { signal })) as unknown;
    if (r && typeof r === 'object' && !Array.isArray(r) && !(r instanceof ArrayBuffer)) return r as DicomJson;
    if (typeof r === 'string' && r.trim().startsWith('{')) {
      try {
        return JSON.parse(r) as DicomJson;
      } catch {
        return null;
      }
    }
    if (r instanceof ArrayBuffer) {
      try {
        return JSON.parse(Buffer.from(r).toString('utf8')) as DicomJson;
      } catch {
        return null;
      }
    }
    return null;
  }
}

export { isPart10 };

/** The first value of a tag in DICOM JSON, as a string (person names: the Alphabetic group). */
export function jsonValue(obj: DicomJson, tag: string): string | null {
  const v = obj[tag]?.Value?.[0];
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return ((v as { Alphabetic?: string }).Alphabetic ?? null) || null;
  return String(v);
}

export function jsonValues(obj: DicomJson, tag: string): string[] {
  return (obj[tag]?.Value ?? []).map((v) => (typeof v === 'object' && v ? ((v as { Alphabetic?: string }).Alphabetic ?? '') : String(v))).filter((s) => s !== '');
}
