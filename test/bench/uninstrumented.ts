/**
 * A Chromium the harness does not instrument, for the memory rows (issue 14).
 *
 * Under Playwright every page has DevTools' Network domain enabled, and Chromium then keeps a copy
 * of every response body in the renderer: a second copy of every DICOM file the viewer fetches,
 * held by the harness, not by the app. A user's machine has no DevTools attached. So here the
 * bench starts /usr/bin/chromium itself (the e2e flags, SwiftShader WebGL), with no remote
 * debugging port and no automation at all, and talks to the page only over HTTP:
 *   - the renderer is served exactly as serveRendererPath serves it (the app's CSP), except that
 *     index.html gets two same-origin classic scripts in front of the app's module: a bridge
 *     (window.medimg.invoke → POST /__bench/invoke → the real handler table) and the scenario
 *     (`driver`, below) that drives the page as the Playwright bench does;
 *   - at each step the scenario POSTs /__bench/step?name=…, and the bench answers once it has
 *     read the memory of every process of that browser from /proc (browser, zygotes, renderer,
 *     GPU, utility: the process tree under the browser's pid).
 * The bridge's and steps' requests are a few hundred bytes each, and nothing keeps their bodies.
 * `withRawCdp` instead opens a remote debugging port and sends one Runtime.evaluate over a raw
 * websocket (no Network domain), to measure whether attaching DevTools alone keeps copies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../../src/node/services';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { serveRendererPath } from '../../src/node/renderer-origin';
import { tempDir } from '../support/tmp';
import { CHROMIUM_ARGS } from '../support/renderer-host';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');

/**
 * What the processes hold, kB (smaps_rollup): `held` = Pss_Anon + Pss_Shmem, the memory they
 * allocated (heaps, typed arrays, textures, the shared memory between renderer and GPU process,
 * each page counted once); `pss` adds the file-backed pages (the chromium binary and libraries),
 * whose share moves whenever another Chromium on the machine starts or ends; `rss` counts every
 * page in every process that maps it.
 */
export interface ProcMemory {
  rss: number;
  pss: number;
  held: number;
  /** by process type (browser, renderer, gpu-process, utility, zygote) */
  byType: Record<string, { rss: number; pss: number; held: number; n: number }>;
}

/** Rss and Pss (smaps_rollup) of `root` (unless `withRoot` is false) and every process below it. */
export function treeMemory(root: number, withRoot = true): ProcMemory {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: ProcMemory = { rss: 0, pss: 0, held: 0, byType: {} };
  const stack = withRoot ? [root] : [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const roll = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? (cmd.includes('chromium') ? 'browser' : 'other');
      const rss = Number(/^Rss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
      const pss = Number(/^Pss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
      const held = Number(/^Pss_Anon:\s+(\d+)/m.exec(roll)?.[1] ?? 0) + Number(/^Pss_Shmem:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
      out.rss += rss;
      out.pss += pss;
      out.held += held;
      const t = (out.byType[type] ??= { rss: 0, pss: 0, held: 0, n: 0 });
      t.rss += rss;
      t.pss += pss;
      t.held += held;
      t.n++;
    } catch {
      /* gone, or not ours to read */
    }
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** after − before, per type, as "gpu-process +151 MiB" (held: anonymous + shared memory PSS). */
export function memoryDelta(before: ProcMemory, after: ProcMemory): string {
  const types = [...new Set([...Object.keys(before.byType), ...Object.keys(after.byType)])];
  return types
    .map((t) => [t, (after.byType[t]?.held ?? 0) - (before.byType[t]?.held ?? 0)] as const)
    .filter(([, kb]) => Math.abs(kb) >= 1024)
    .sort((a, b) => b[1] - a[1])
    .map(([t, kb]) => `${t} ${kb >= 0 ? '+' : ''}${(kb / 1024).toFixed(0)} MiB`)
    .join(', ');
}

export interface DriverParams {
  task: 'stack-ours' | 'stack-bare' | 'typed' | 'mpr-ours' | 'mpr-bare' | 'texture';
  seriesId?: number;
  firstInstanceId?: number;
  slices?: number;
  /** /assets/… of the lazily loaded chunk that installs window.medimgMprBench */
  mprChunk?: string;
}

/**
 * The scenario, run in the page (this function's source is served as a classic script, so it
 * refers to nothing outside itself). It mirrors the Playwright bench's steps.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
async function driver(p: DriverParams): Promise<void> {
  const w = window as any;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const step = async (name: string, data: unknown = {}) => {
    const r = await fetch(`/__bench/step?name=${encodeURIComponent(name)}`, { method: 'POST', body: JSON.stringify(data) });
    return r.text();
  };
  const until = async (f: () => unknown, what: string, ms = 300_000) => {
    const t = performance.now();
    while (!f()) {
      if (performance.now() - t > ms) throw new Error(`timed out: ${what}`);
      await sleep(5);
    }
  };
  const invoke = async (channel: string, request: unknown) => {
    const r = await w.medimg.invoke(channel, request);
    if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
    return r.value;
  };
  const settle = async () => {
    for (let i = 0; i < 2; i++) {
      w.gc?.();
      await sleep(500);
    }
  };
  // readings 1 s and 10 s after the volume is in
  const afterThenLater = async () => {
    await sleep(1000);
    await settle();
    await step('after');
    await sleep(10_000);
    await settle();
    await step('later');
  };
  try {
    await until(() => document.querySelector('[data-testid=viewport]'), 'viewport');
    if (p.mprChunk) await import(p.mprChunk);
    await sleep(1000);
    const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
    if (p.task === 'stack-ours') {
      await step('before');
      const dt = new DataTransfer();
      dt.setData('application/x-medimg-series', String(p.seriesId));
      vp.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      await until(() => vp.getAttribute('data-position') === '0' && vp.getAttribute('data-state') === 'ready', 'first slice');
      const bar = document.querySelector('[data-testid=stack-scrollbar]') as HTMLInputElement;
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      for (let i = 0; i < p.slices!; i++) {
        set.call(bar, String(i));
        bar.dispatchEvent(new Event('input', { bubbles: true }));
        while (vp.getAttribute('data-position') !== String(i) || vp.getAttribute('data-state') === 'loading') await sleep(1);
      }
      await sleep(1000);
      await step('after');
    } else if (p.task === 'stack-bare') {
      const { instances } = await invoke('library.instances', { seriesId: p.seriesId });
      await step('before');
      await w.medimgStackBench.bareScroll(instances.map((x: { id: number }) => x.id));
      await sleep(1000);
      await step('after');
    } else if (p.task === 'typed') {
      await step('before');
      const keep: Int16Array[] = [];
      for (let i = 0; i < p.slices!; i++) {
        const a = new Int16Array(512 * 512);
        a.fill(1, 0, a.length);
        keep.push(a);
      }
      w.keep = keep;
      await sleep(1000);
      await step('after');
    } else if (p.task === 'mpr-ours') {
      await settle();
      await step('empty');
      for (let t = document.querySelector('[data-testid=study-row] .tree__toggle[aria-expanded=false]'); t; t = document.querySelector('[data-testid=study-row] .tree__toggle[aria-expanded=false]')) {
        (t as HTMLElement).click();
        await sleep(100);
      }
      const rowSel = `[data-testid=series-row][data-series-id="${p.seriesId}"]`;
      await until(() => document.querySelector(rowSel), 'series row');
      (document.querySelector(rowSel) as HTMLElement).click();
      await until(() => vp.getAttribute('data-state') === 'ready' && !(document.querySelector('[data-testid=mpr-button]') as HTMLButtonElement | null)?.disabled, 'stack ready');
      await sleep(5000); // the stack view's prefetch
      await settle();
      await step('stack');
      w.medimgMprBench.purge();
      await settle();
      await step('purged');
      (document.querySelector('[data-testid=mpr-button]') as HTMLButtonElement).click();
      await until(() => w.medimgMpr?.timing().completeMs != null && w.medimgMpr.timing().firstFrameMs != null, 'MPR complete');
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      await sleep(1000);
      await settle();
      await step('after', { decodedSlicesHeld: w.medimgMpr.decodedSlicesHeld(), textureFormat: w.medimgMpr.textureFormat(), decodeWorkers: w.medimgMpr.decodeWorkers?.(), contextsAntialiased: w.medimgMpr.contextsAntialiased?.() });
      // Does the renderer give back more later (freed pages the allocator returns on its own timer, the decode workers' garbage)?
      await sleep(10_000);
      await settle();
      await step('later');
      // The Playwright bench's former reading: back to the stack, purge, the MPR again (a volume has been shown before).
      document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      await until(() => !document.querySelector('[data-testid=mpr]') && document.querySelector('[data-testid=mpr-button]'), 'back to the stack', 30_000);
      await until(() => vp.getAttribute('data-state') === 'ready' || document.querySelector('[data-testid=viewport][data-index="0"][data-state=ready]'), 'stack ready again', 30_000);
      w.medimgMprBench.purge();
      await settle();
      await step('back');
      const before = w.medimgMpr;
      (document.querySelector('[data-testid=mpr-button]') as HTMLButtonElement).click();
      await until(() => w.medimgMpr && w.medimgMpr !== before && w.medimgMpr.timing().completeMs != null && w.medimgMpr.timing().firstFrameMs != null, 'MPR complete again');
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      await sleep(1000);
      await settle();
      await step('again');
    } else if (p.task === 'mpr-bare') {
      const { instances } = await invoke('library.instances', { seriesId: p.seriesId });
      const ids = instances.map((x: { id: number }) => `wadouri:${new URL(`dicom/${x.id}`, location.href).href}`);
      await settle();
      await step('before');
      await w.medimgMprBench.bare(ids, { hold: true });
      await afterThenLater();
    }
    if (p.task === 'texture') {
      // The floor under any volume texture here: one WebGL2 R16F 3D texture of the volume's size,
      // filled slice by slice (as Cornerstone3D streams it), drawn from once, nothing else.
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 256;
      document.body.appendChild(canvas);
      const gl = canvas.getContext('webgl2')!;
      w.keepGl = gl;
      await settle();
      await step('before');
      const tex = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_3D, tex);
      gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texStorage3D(gl.TEXTURE_3D, 1, gl.R16F, 512, 512, p.slices!);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
      const slice = new Uint16Array(512 * 512);
      for (let z = 0; z < p.slices!; z++) {
        slice.fill(0x3c00 + (z & 255));
        gl.texSubImage3D(gl.TEXTURE_3D, 0, 0, 0, z, 512, 512, 1, gl.RED, gl.HALF_FLOAT, slice);
        if (z % 16 === 15) await new Promise((r) => setTimeout(r, 0));
      }
      const vs = gl.createShader(gl.VERTEX_SHADER)!;
      gl.shaderSource(vs, '#version 300 es\nin vec2 p; out vec2 uv; void main(){ uv = p * 0.5 + 0.5; gl_Position = vec4(p, 0, 1); }');
      gl.compileShader(vs);
      const fs = gl.createShader(gl.FRAGMENT_SHADER)!;
      gl.shaderSource(fs, '#version 300 es\nprecision highp float; precision highp sampler3D; uniform sampler3D t; in vec2 uv; out vec4 o; void main(){ o = vec4(texture(t, vec3(uv, 0.5)).rrr, 1); }');
      gl.compileShader(fs);
      const prog = gl.createProgram()!;
      gl.attachShader(prog, vs);
      gl.attachShader(prog, fs);
      gl.linkProgram(prog);
      gl.useProgram(prog);
      const buf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buf);
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
      gl.enableVertexAttribArray(0);
      gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
      await afterThenLater();
    }
    if (p.task === 'stack-ours' || p.task === 'stack-bare' || p.task === 'typed') {
      // and once more after 10 s idle and a GC: what stays
      await sleep(10_000);
      await settle();
      await step('later');
    }
    await step('done');
  } catch (e) {
    await step('error', { message: String((e as Error)?.stack ?? e) });
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** window.medimg over HTTP (same-origin POST), as the preload's contextBridge offers it. */
const BRIDGE = `(() => {
  const call = async (channel, request) => {
    const r = await fetch('/__bench/invoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel, request }) });
    return r.json();
  };
  window.medimg = Object.freeze({ invoke: call, on: () => () => undefined });
})();`;

export interface UninstrumentedRun {
  pid: number;
  profileDir: string;
  /** Resolves when the page reaches step `name`; the page waits until `proceed()`. */
  step(name: string): Promise<unknown>;
  proceed(): void;
  memory(): ProcMemory;
  close(): Promise<void>;
}

/**
 * Serves the renderer for one scenario and starts a Chromium on it (window `width`×`height`).
 * `extraArgs`: e.g. a remote debugging port (withRawCdp).
 */
export async function runUninstrumented(services: Services, executablePath: string, params: DriverParams, opts: { width: number; height: number; extraArgs?: string[] }): Promise<UninstrumentedRun> {
  const table = createHandlerTable(services);
  let origin = '';
  const waiting = new Map<string, (data: unknown) => void>();
  const arrived = new Map<string, unknown>();
  let held: (() => void) | null = null;
  let failed: ((e: Error) => void) | null = null;
  let failure: Error | null = null;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.startsWith('/__bench/')) {
        let body = '';
        for await (const c of req) body += c;
        if (url.pathname === '/__bench/bridge.js' || url.pathname === '/__bench/driver.js') {
          const js = url.pathname === '/__bench/bridge.js' ? BRIDGE : `(${driver.toString()})(${JSON.stringify(params)});`;
          res.writeHead(200, { 'content-type': 'text/javascript' });
          res.end(js);
        } else if (url.pathname === '/__bench/invoke') {
          const { channel, request } = JSON.parse(body) as { channel: string; request: unknown };
          const r = await dispatch(table, channel, request, { url: `${origin}/index.html`, trusted: true }, services.log);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r));
        } else if (url.pathname === '/__bench/step') {
          const name = url.searchParams.get('name') ?? '';
          const data = body ? (JSON.parse(body) as unknown) : {};
          if (name === 'error') {
            failure = new Error(`page: ${(data as { message?: string }).message}`);
            failed?.(failure);
            res.end('');
            return;
          }
          held = () => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('go');
          };
          const w = waiting.get(name);
          if (w) w(data);
          else arrived.set(name, data);
        } else {
          res.writeHead(404);
          res.end();
        }
        return;
      }
      const r = await serveRendererPath(rendererDir, services.resources, url);
      if ((url.pathname === '/' || url.pathname === '/index.html') && r.status === 200) {
        const html = String(r.body).replace('<head>', '<head><script src="/__bench/bridge.js"></script><script src="/__bench/driver.js"></script>');
        res.writeHead(200, r.headers);
        res.end(html);
        return;
      }
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const profile = tempDir('medimg-bench-chromium-');
  const args = [
    ...CHROMIUM_ARGS,
    // what Playwright's launch adds that matters here: SwiftShader WebGL, no throttling of a hidden page
    '--enable-unsafe-swiftshader',
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
    '--disable-dev-shm-usage',
    '--disable-extensions',
    '--password-store=basic',
    // window.gc(), so a reading can be taken after garbage collection (the Playwright bench uses HeapProfiler.collectGarbage)
    '--js-flags=--expose-gc',
    `--window-size=${opts.width},${opts.height}`,
    `--user-data-dir=${profile.path}`,
    ...(opts.extraArgs ?? []),
    `${origin}/index.html`,
  ];
  const child: ChildProcess = spawn(executablePath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid!;
  return {
    pid,
    profileDir: profile.path,
    step: (name) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        if (arrived.has(name)) {
          resolve(arrived.get(name));
          arrived.delete(name);
          return;
        }
        const timer = setTimeout(() => reject(new Error(`no step ${name} within 10 min; chromium said: ${stderr}`)), 600_000);
        failed = (e) => {
          clearTimeout(timer);
          reject(e);
        };
        waiting.set(name, (d) => {
          clearTimeout(timer);
          waiting.delete(name);
          resolve(d);
        });
      }),
    proceed: () => {
      const h = held;
      held = null;
      h?.();
    },
    memory: () => treeMemory(pid),
    async close() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await new Promise((r) => server.close(() => r(undefined)));
      server.closeAllConnections?.();
      // its processes may still be writing the profile for a moment after the browser exits
      for (let i = 0; i < 10; i++) {
        try {
          profile.cleanup();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
  };
}

/**
 * A minimal raw DevTools client on the page target's websocket. No domain is enabled (not Network,
 * not Runtime): only Runtime.evaluate is sent, to measure what an attached DevTools session that
 * merely evaluates costs. `profileDir`: the browser's --user-data-dir, where Chromium started with
 * --remote-debugging-port=0 writes its port (DevToolsActivePort).
 */
export async function rawCdpSession(profileDir: string): Promise<{ evaluate(expression: string): Promise<unknown>; close(): void }> {
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    try {
      port = Number(readFileSync(join(profileDir, 'DevToolsActivePort'), 'utf8').split('\n')[0]);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const target = list.find((t) => t.type === 'page');
  if (!target) throw new Error('no page target');
  const ws = await openWebSocket(target.webSocketDebuggerUrl);
  let id = 0;
  const pending = new Map<number, [(v: unknown) => void, (e: Error) => void]>();
  ws.onMessage((text) => {
    const msg = JSON.parse(text) as { id?: number; result?: { result?: { value?: unknown } }; error?: { message: string } };
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.error) p[1](new Error(msg.error.message));
    else p[0](msg.result?.result?.value);
  });
  return {
    evaluate: (expression) =>
      new Promise((resolve, reject) => {
        pending.set(++id, [resolve, reject]);
        ws.send(JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true, awaitPromise: true } }));
      }),
    close: () => ws.close(),
  };
}

/** Just enough of RFC 6455 for a DevTools session on loopback: text frames out (masked), text frames in. */
async function openWebSocket(url: string): Promise<{ send(text: string): void; onMessage(f: (text: string) => void): void; close(): void }> {
  const u = new URL(url);
  const sock = connect(Number(u.port), u.hostname);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  const key = randomBytes(16).toString('base64');
  sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf = Buffer.alloc(0);
  let open = false;
  let listener: (text: string) => void = () => undefined;
  await new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buf.subarray(0, end).toString())) return reject(new Error(`websocket refused: ${buf.subarray(0, end).toString()}`));
        open = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      // frames: FIN + opcode, length (7 / 16 / 64 bit), unmasked payload from the server
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const opcode = buf[0]! & 0x0f;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (opcode === 1) listener(payload.toString('utf8'));
      }
    });
  });
  return {
    send(text) {
      const payload = Buffer.from(text, 'utf8');
      const mask = randomBytes(4);
      const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : payload.length < 65536 ? Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]) : null;
      if (!head) throw new Error('message too long');
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      sock.write(Buffer.concat([head, mask, masked]));
    },
    onMessage(f) {
      listener = f;
    },
    close() {
      sock.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
      sock.destroy();
    },
  };
}
