/**
 * A real WebDAV server for the split tests: Debian's nginx (package nginx-light, http_dav_module)
 * on 127.0.0.1 with a random port, its files, logs and temp folders in a private folder. Started
 * as one foreground process (no daemon, no master) that the test stops by its pid. Without nginx the
 * tests skip — except under CI, where they fail, naming the package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? null;

export function requireNginx(): boolean {
  if (NGINX) return true;
  if (process.env.CI) throw new Error('nginx is not installed: the WebDAV pixel store tests need the Debian package nginx-light (apt-get install nginx-light).');
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The nginx configuration a region can start from (docs/split-storage.md §6 shows the same). */
export function nginxDavConfig(o: { dir: string; port: number; user?: string }): string {
  const d = o.dir;
  return `
${o.user ? `user ${o.user};` : ''}
daemon off;
master_process off;
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${d}/body-temp;
  proxy_temp_path ${d}/proxy-temp;
  fastcgi_temp_path ${d}/fastcgi-temp;
  uwsgi_temp_path ${d}/uwsgi-temp;
  scgi_temp_path ${d}/scgi-temp;
  server {
    listen 127.0.0.1:${o.port};
    root ${d}/data;
    client_max_body_size 0;
    location /blobs/ {
      dav_methods PUT DELETE MKCOL;
      create_full_put_path on;
      dav_access user:rw;
      autoindex on;
      autoindex_format json;
    }
  }
}
`;
}

export interface DavServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startDavServer(dir: string): Promise<DavServer> {
  if (!NGINX) throw new Error('nginx is not installed');
  mkdirSync(join(dir, 'data', 'blobs'), { recursive: true });
  mkdirSync(join(dir, 'body-temp'), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxDavConfig({ dir, port }));
    const child: ChildProcess = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (b) => (err += String(b)));
    const url = `http://127.0.0.1:${port}/blobs/`;
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        up = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (up) {
      return {
        url,
        dataDir: join(dir, 'data', 'blobs'),
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    if (attempt >= 3) throw new Error(`nginx did not start: ${err.trim()}`);
  }
}
