/**
 * Series thumbnails: rendered in a worker thread (dist/workers/thumbnail.worker.cjs), cached on
 * disk under the app's cache folder, keyed by series and the content hash of the source file so a
 * changed file gets a fresh thumbnail.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Library } from './library';
import { placeholderPng } from './thumbnail-render';
import { writeFileAtomic } from '../atomic';
import type { ThumbnailJob } from './thumbnail.worker';

export const THUMBNAIL_SIZE = 128;

/** Where the bundled worker lives: next to the running bundle (dist/<x>/ → dist/workers/), or under the repo's dist/. */
export function findWorker(name: string): string | null {
  const candidates: string[] = [];
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    candidates.push(resolve(here, '../workers', `${name}.cjs`));
    let dir = here;
    for (let i = 0; i < 6; i++) {
      candidates.push(join(dir, 'dist/workers', `${name}.cjs`));
      dir = dirname(dir);
    }
  } catch {
    /* no import.meta.url */
  }
  candidates.push(join(process.cwd(), 'dist/workers', `${name}.cjs`));
  return candidates.find((c) => existsSync(c)) ?? null;
}

interface Reply {
  id: number;
  png: Uint8Array;
  placeholder: boolean;
  reason: string | null;
}

export class Thumbnails {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly inflight = new Map<string, Promise<{ png: Uint8Array; placeholder: boolean; reason: string | null }>>();

  constructor(
    private readonly lib: Library,
    private readonly cacheDir: string,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const file = findWorker('thumbnail.worker');
    if (!file) throw new Error('the thumbnail worker bundle (dist/workers/thumbnail.worker.cjs) is missing; run `node scripts/build.mjs --node`');
    const w = new Worker(file);
    w.unref();
    w.on('message', (r: Reply) => {
      const cb = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      cb?.({ ...r, png: new Uint8Array(r.png) });
    });
    const failAll = (why: string) => {
      for (const [id, cb] of this.waiting) cb({ id, png: placeholderPng(THUMBNAIL_SIZE), placeholder: true, reason: why });
      this.waiting.clear();
      this.worker = null;
    };
    w.on('error', (err) => failAll(`the thumbnail worker failed: ${err.message}`));
    w.on('exit', () => failAll('the thumbnail worker stopped'));
    this.worker = w;
    return w;
  }

  private render(job: Omit<ThumbnailJob, 'id'>): Promise<Reply> {
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<Reply>((res) => {
      this.waiting.set(id, res);
      w.ref();
      w.postMessage({ ...job, id });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }

  /** The PNG for a series (placeholder when it has no decodable pixels). */
  async get(seriesId: number): Promise<{ png: Uint8Array; placeholder: boolean; reason: string | null }> {
    const src = this.lib.thumbnailSource(seriesId); // throws NOT_FOUND for an unknown series
    if (!src) return { png: placeholderPng(THUMBNAIL_SIZE), placeholder: true, reason: 'the series has no images' };
    const file = this.lib.instanceFile(src.id)!;
    const version = file.sha256 ? file.sha256.slice(0, 16) : `${file.size}-${Math.round(file.mtimeMs)}`;
    const key = `${seriesId}-${version}-${THUMBNAIL_SIZE}`;
    const cached = join(this.cacheDir, `${key}.png`);
    try {
      return { png: new Uint8Array(await readFile(cached)), placeholder: false, reason: null };
    } catch {
      /* not cached yet */
    }
    let p = this.inflight.get(key);
    if (!p) {
      p = (async () => {
        const r = await this.render({
          path: await this.lib.readablePath(src.id, file), // a split instance whose file is gone: its rebuilt copy
          size: THUMBNAIL_SIZE,
          windowCenter: src.windowCenter,
          windowWidth: src.windowWidth,
          rescaleSlope: src.rescaleSlope,
          rescaleIntercept: src.rescaleIntercept,
        });
        if (!r.placeholder) {
          mkdirSync(this.cacheDir, { recursive: true });
          // a cache: replaced atomically, but not worth an fsync
          await writeFileAtomic(cached, r.png, { mode: 0o644, durable: false });
        }
        return { png: r.png, placeholder: r.placeholder, reason: r.reason };
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
