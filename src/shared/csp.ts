/**
 * The renderer's Content Security Policy, in one place: the Electron protocol handler and the
 * e2e test server both send it. See docs/security.md for why each source is allowed.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  // 'wasm-unsafe-eval' lets the image codecs compile WebAssembly; no eval of JavaScript.
  "script-src 'self' 'wasm-unsafe-eval'",
  // the image loader's decode workers are module workers served from our origin (vite.config.ts);
  // blob: stays for Cornerstone3D's own helper workers
  "worker-src 'self' blob:",
  // the decode worker fetches its .wasm codecs from our origin
  "connect-src 'self' data:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The image decode worker's own policy. A dedicated (module) worker loaded from a URL runs under
 * the CSP of its own response, not the page's, and the chunks it imports inherit it. The codec
 * glue of JPEG-LS, JPEG 2000 and libjpeg-turbo (emscripten embind) calls `new Function`, so this
 * worker — no DOM, no bridge, only pixel data in and out — is the one place 'unsafe-eval' is
 * allowed; 'wasm-unsafe-eval' lets it compile the codecs' WebAssembly.
 */
export const CODEC_WORKER_CSP = [
  "default-src 'none'",
  "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
  "connect-src 'self' data:",
].join('; ');

/** The decode worker's scripts: the worker entry and its chunks the bundler emits (vite.config.ts names them `*.worker.js`). */
export const CODEC_WORKER_PATH = /^\/assets\/[0-9A-Za-z._-]+\.worker\.js$/;

/** The policy to send with a response for `pathname` under the app's origin. */
export function cspFor(pathname: string): string {
  return CODEC_WORKER_PATH.test(pathname) ? CODEC_WORKER_CSP : RENDERER_CSP;
}

/** The origin the renderer is served from inside Electron. */
export const APP_ORIGIN = 'app://medimgshr';
