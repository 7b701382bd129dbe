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

/** The origin the renderer is served from inside Electron. */
export const APP_ORIGIN = 'app://medimgshr';
