import type { LoadState } from './useImageStack';

/** What the viewport says instead of (or while waiting for) an image: empty, loading, or why an image cannot be shown. */
export function ViewportMessage({ state, pos, count }: { state: LoadState; pos: number; count: number }) {
  switch (state.kind) {
    case 'empty':
      return (
        <div className="viewport__hint">
          <p className="viewport__hint-title">No series open</p>
          <p>Select a series in the study list, or drag it here.</p>
        </div>
      );
    case 'loading':
      return <div className="viewport__loading">Loading…</div>;
    case 'error':
      return <DamagedImage message={state.message} hint={state.hint} pos={pos} count={count} />;
    default:
      return null;
  }
}

/** A damaged or unreadable image: what is wrong, what to do, and that the rest of the series can still be read. */
function DamagedImage({ message, hint, pos, count }: { message: string; hint: string; pos: number; count: number }) {
  return (
    <div className="viewport__error" role="alert" data-testid="viewport-error">
      <p className="viewport__error-title">Cannot display this image</p>
      <p>{message}</p>
      <p className="viewport__error-hint">{hint}</p>
      {count > 1 && <p className="viewport__error-hint">Image {pos + 1} of {count} — scroll to read the others.</p>}
    </div>
  );
}
