import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
const root = process.argv[2];
const mime = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };
const srv = createServer(async (req, res) => {
  const p = join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html');
  try { const b = await readFile(p); res.writeHead(200, { 'content-type': mime[extname(p)] ?? 'application/octet-stream' }); res.end(b); } catch { res.writeHead(404); res.end(); }
}).listen(0);
const port = srv.address().port;
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const b = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
const page = await b.newPage();
page.on('pageerror', (e) => console.log('PAGEERROR', e.stack));
page.on('console', (m) => m.type() === 'error' && console.log('CONSOLE', m.text()));
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForTimeout(3000);
await b.close(); srv.close();
