import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RENDERER_CSP } from './src/shared/csp.ts';

// The CSP is also written into index.html, so the policy holds wherever the bundle is served
// (frame-ancestors is header-only and is dropped from the meta tag).
function cspMeta(): Plugin {
  const policy = RENDERER_CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors')).join('; ');
  return {
    name: 'medimg-csp-meta',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' }],
  };
}

// The image loader's decode worker (its dynamic-import build: worker entry, chunks, wasm codecs) is
// copied next to our bundle, where the loader looks for it (its public path is our script's folder).
function codecWorker(): Plugin {
  const from = fileURLToPath(new URL('./node_modules/cornerstone-wado-image-loader/dist/dynamic-import/', import.meta.url));
  return {
    name: 'medimg-codec-worker',
    apply: 'build',
    writeBundle(options) {
      const assets = join(options.dir ?? '', 'assets');
      mkdirSync(assets, { recursive: true });
      for (const f of readdirSync(from)) {
        if (f.endsWith('.worker.js') || f.endsWith('.wasm')) copyFileSync(join(from, f), join(assets, f));
      }
    },
  };
}

// The renderer bundle. Served from app://medimgshr/ in Electron and from a loopback server
// in the e2e rig, so the base is relative.
export default defineConfig({
  root: fileURLToPath(new URL('./src/renderer', import.meta.url)),
  base: './',
  plugins: [cspMeta(), codecWorker()],
  // vtk.js (Cornerstone3D) pulls in xmlbuilder2, which extends Node's EventEmitter at load time.
  resolve: { alias: { events: fileURLToPath(new URL('./src/renderer/viewer/mpr/eventsShim.ts', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'chrome120',
    chunkSizeWarningLimit: 4096,
  },
});
