/**
 * A real Orthanc for tests: free loopback HTTP and DICOM ports, its own configuration and storage
 * in a temporary folder, the DICOMweb plugin enabled. `startOrthanc()` waits until it answers;
 * `stop()` ends it and removes the folder. Small DICOMweb helpers (STOW-RS, WADO-RS) included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/node/net';
import { findOrthanc } from '../../src/node/components';
import { tempDir } from './tmp';

const PLUGIN_CANDIDATES = ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so', '/usr/lib/orthanc/libOrthancDicomWeb.so.1.7', '/usr/lib/orthanc/libOrthancDicomWeb.so'];

export function findDicomWebPlugin(): string | null {
  for (const p of PLUGIN_CANDIDATES) if (existsSync(p)) return p;
  return null;
}

export interface OrthancServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. http://127.0.0.1:41234/dicom-web */
  dicomWebUrl: string;
  httpPort: number;
  dicomPort: number;
  aet: string;
  dir: string;
  /** The log Orthanc wrote to stdout/stderr (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  binary?: string;
  aet?: string;
  timeoutMs?: number;
  /** More Orthanc configuration, merged over the defaults (e.g. RegisteredUsers, DicomCheckCalledAet, DicomModalities). */
  config?: Record<string, unknown>;
}

export async function startOrthanc(opts: StartOptions = {}): Promise<OrthancServer> {
  const binary = opts.binary ?? findOrthanc();
  if (!binary) throw new Error('Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)');
  const plugin = findDicomWebPlugin();
  if (!plugin) throw new Error('the Orthanc DICOMweb plugin is not installed (Debian package orthanc-dicomweb)');
  const tmp = tempDir('medimg-orthanc-');
  const httpPort = await freeLoopbackPort();
  let dicomPort = await freeLoopbackPort();
  while (dicomPort === httpPort) dicomPort = await freeLoopbackPort();
  const aet = opts.aet ?? 'MEDIMGTEST';
  mkdirSync(join(tmp.path, 'storage'));
  const config = {
    Name: 'medimg-test',
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aet,
    StorageDirectory: join(tmp.path, 'storage'),
    IndexDirectory: join(tmp.path, 'storage'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpCompressionEnabled: false,
    Plugins: [plugin],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
    StableAge: 1,
    ConcurrentJobs: 1,
    ...opts.config,
  };
  const configPath = join(tmp.path, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  let out = '';
  const child: ChildProcess = spawn(binary, [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  let exited: number | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code ?? -1;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  // with RegisteredUsers, the readiness check signs in as the first user
  const users = Object.entries((opts.config?.RegisteredUsers ?? {}) as Record<string, string>);
  const adminHeaders: Record<string, string> = users[0] ? { authorization: `Basic ${Buffer.from(`${users[0][0]}:${users[0][1]}`).toString('base64')}` } : {};
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    tmp.cleanup();
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (exited !== null) {
      tmp.cleanup();
      throw new Error(`Orthanc exited with code ${exited} while starting:\n${out}`);
    }
    try {
      const res = await fetch(`${url}/system`, { signal: AbortSignal.timeout(1000), headers: adminHeaders });
      if (res.ok) {
        const plugins = (await (await fetch(`${url}/plugins`, { headers: adminHeaders })).json()) as string[];
        if (!plugins.includes('dicom-web')) {
          await stop();
          throw new Error(`Orthanc started without the DICOMweb plugin (plugins: ${plugins.join(', ')})`);
        }
        break;
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('Orthanc started')) throw err;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer on ${url} within ${opts.timeoutMs ?? 30_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, dicomWebUrl: `${url}/dicom-web`, httpPort, dicomPort, aet, dir: tmp.path, log: () => out, stop };
}

/** STOW-RS: stores Part-10 files; returns the HTTP status. */
export async function stowRs(server: OrthancServer, files: Uint8Array[]): Promise<number> {
  const boundary = `medimg-${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
    parts.push(Buffer.from(f));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${server.dicomWebUrl}/studies`, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
    body: Buffer.concat(parts),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The parts of a multipart/related body. */
export function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const delim = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const chunk = body.subarray(start, next);
    const headerEnd = chunk.indexOf('\r\n\r\n');
    let content = chunk.subarray(headerEnd + 4);
    if (content.subarray(content.length - 2).toString() === '\r\n') content = content.subarray(0, content.length - 2);
    parts.push(Buffer.from(content));
    pos = next;
  }
  return parts;
}

/**
 * WADO-RS retrieve of one instance. `transferSyntax`: '*' keeps the stored encoding; undefined
 * lets the server choose (Orthanc re-encodes to Explicit VR Little Endian).
 */
export async function wadoRsInstance(server: OrthancServer, study: string, series: string, sop: string, transferSyntax?: string): Promise<Buffer> {
  const accept = `multipart/related; type="application/dicom"${transferSyntax ? `; transfer-syntax=${transferSyntax}` : ''}`;
  const res = await fetch(`${server.dicomWebUrl}/studies/${study}/series/${series}/instances/${sop}`, { headers: { accept } });
  if (!res.ok) throw new Error(`WADO-RS ${res.status}: ${await res.text()}`);
  const parts = multipartParts(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? '');
  if (parts.length !== 1) throw new Error(`WADO-RS returned ${parts.length} parts, expected 1`);
  return parts[0]!;
}

/** A call to Orthanc's REST API: JSON answers parsed, others as bytes; a non-2xx answer throws with Orthanc's words. */
export async function orthancRest(server: OrthancServer, path: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(`${server.url}${path}`, init);
  if (!r.ok) throw new Error(`Orthanc ${path}: ${r.status} ${await r.text()}`);
  return (r.headers.get('content-type') ?? '').includes('json') ? r.json() : Buffer.from(await r.arrayBuffer());
}

/**
 * Tampering on the PACS side: the instance with this SOP Instance UID gets another PatientName, its UIDs kept
 * (Orthanc's /modify), and is stored in place of the original. Returns the modified file's bytes.
 */
export async function orthancRenamePatient(server: OrthancServer, sopInstanceUid: string, patientName: string): Promise<Buffer> {
  const id = await orthancId(server, sopInstanceUid, 'Instance');
  const modified = (await orthancRest(server, `/instances/${id}/modify`, {
    method: 'POST',
    body: JSON.stringify({ Replace: { PatientName: patientName }, Keep: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'], Force: true }),
  })) as Buffer;
  await orthancRest(server, `/instances/${id}`, { method: 'DELETE' });
  const stored = (await orthancRest(server, '/instances', { method: 'POST', body: new Uint8Array(modified) })) as { Status: string };
  if (stored.Status !== 'Success') throw new Error(`Orthanc did not store the modified instance ${sopInstanceUid}: ${stored.Status}`);
  return modified;
}

/** Orthanc's own id of the study, series or instance with this DICOM UID (its first hit, or of `type`); throws when Orthanc has none. */
export async function orthancId(server: OrthancServer, uid: string, type?: 'Study' | 'Series' | 'Instance'): Promise<string> {
  const hits = (await orthancRest(server, '/tools/lookup', { method: 'POST', body: uid })) as { ID: string; Type: string }[];
  const hit = type ? hits.find((h) => h.Type === type) : hits[0];
  if (!hit) throw new Error(`Orthanc at ${server.url} holds no ${type ?? 'object'} with UID ${uid}`);
  return hit.ID;
}
