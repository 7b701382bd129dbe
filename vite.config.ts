import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
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

// The renderer bundle. Served from app://medimgshr/ in Electron and from a loopback server
// in the e2e rig, so the base is relative.
export default defineConfig({
  root: fileURLToPath(new URL('./src/renderer', import.meta.url)),
  base: './',
  plugins: [cspMeta()],
  resolve: {
    // vtk.js → xmlbuilder2 extends Node's EventEmitter (see the shim for why).
    alias: { events: fileURLToPath(new URL('./src/renderer/shims/events.ts', import.meta.url)) },
  },
  // Cornerstone3D's image loader starts its decode worker as a module worker
  // (`new Worker(new URL('./decodeImageFrameWorker.js', import.meta.url), { type: 'module' })`) and the
  // worker fetches its WebAssembly codecs with `new URL(…, import.meta.url)`: the bundler emits the
  // worker, its chunks and the .wasm files next to our bundle. Every worker file ends in
  // `.worker.js`, so the server can send the worker its own CSP (src/shared/csp.ts).
  worker: {
    format: 'es',
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].worker.js',
        chunkFileNames: 'assets/[name]-[hash].worker.js',
      },
    },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'chrome120',
    // Cornerstone3D (core + tools + vtk.js) is most of the bundle; it is loaded from disk, not a network.
    chunkSizeWarningLimit: 6144,
  },
});
