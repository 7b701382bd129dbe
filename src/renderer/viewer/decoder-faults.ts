/**
 * A damaged codestream can decode to an image 0 pixels wide. The Cornerstone image loaders then call the canvas'
 * createImageData(0, …) inside a promise callback nobody awaits: the load never settles and the page gets an
 * unhandled rejection. This catches exactly that fault (nothing else), so a load that then times out can say what
 * happened instead of "did not decode in time".
 */
const ZERO_SIZED = /createImageData.*(width|height) is zero/i;
let lastFault = -Infinity;
let watching = false;

export function watchDecoderFaults(): void {
  if (watching) return;
  watching = true;
  const seen = (message: string): boolean => {
    if (!ZERO_SIZED.test(message)) return false;
    lastFault = performance.now();
    console.warn('image decoder fault: the decoded image has no width or height', message);
    return true;
  };
  window.addEventListener('unhandledrejection', (e) => {
    if (seen(e.reason instanceof Error ? e.reason.message : String(e.reason))) e.preventDefault();
  });
  window.addEventListener('error', (e) => {
    if (seen(e.message ?? '')) e.preventDefault();
  });
}

/** True when a zero-sized decode happened at or after `since` (performance.now()). */
export function decoderFaultSince(since: number): boolean {
  return lastFault >= since;
}
