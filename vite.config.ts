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
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'chrome120',
    chunkSizeWarningLimit: 4096,
  },
});
