/**
 * The renderer's Content Security Policy, in one place: the Electron protocol handler and the
 * e2e test server both send it. See docs/security.md for why each source is allowed.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  // 'wasm-unsafe-eval' lets the image codecs compile WebAssembly; no eval of JavaScript.
  "script-src 'self' 'wasm-unsafe-eval'",
  // the image loader starts its decode workers from blob: URLs
  "worker-src 'self' blob:",
  // the codecs are embedded as data: URIs and fetched by the workers
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
 * The image decode worker's own policy. A dedicated worker loaded from a URL runs under the CSP of
 * its own response, not the page's. The codec glue of JPEG-LS and JPEG 2000 (emscripten embind)
 * calls `new Function`, so this worker — no DOM, no bridge, only pixel data in and out — is the one
 * place 'unsafe-eval' is allowed.
 */
export const CODEC_WORKER_CSP = [
  "default-src 'none'",
  "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
  "connect-src 'self' data:",
].join('; ');

/** The decode worker's scripts: the loader's worker entry and its chunks, copied next to our bundle. */
export const CODEC_WORKER_PATH = /^\/assets\/[0-9a-z.]+\.worker\.js$/;

/** The policy to send with a response for `pathname` under the app's origin. */
export function cspFor(pathname: string): string {
  return CODEC_WORKER_PATH.test(pathname) ? CODEC_WORKER_CSP : RENDERER_CSP;
}

/** The origin the renderer is served from inside Electron. */
export const APP_ORIGIN = 'app://medimgshr';
