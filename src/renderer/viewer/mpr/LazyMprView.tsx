/**
 * The MPR view loads its renderer (Cornerstone3D's volume code) on first use, not with the app —
 * or earlier, when the browser is idle while a series that forms a volume is shown
 * (preloadMprView): then the view's code is in and the volume renderer warmed up (warmUp.ts)
 * before the MPR button is clicked.
 */
import { lazy, Suspense, useState } from 'react';
import type * as MprViewModule from './MprView';
import type { VolumeShape } from './warmUp';

type MprModule = typeof MprViewModule;

let loaded: MprModule | null = null;
let loading: Promise<MprModule> | null = null;

function load(): Promise<MprModule> {
  loading ??= import('./MprView').then(
    (m) => (loaded = m),
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}

const MprView = lazy(() => load().then((m) => ({ default: m.MprView })));

/** `?mprWarmUp=0` (the MPR benchmark's peer page): nothing is loaded or warmed ahead of a click. */
const warmUpAllowed = () => new URLSearchParams(location.search).get('mprWarmUp') !== '0';

let idleQueued = false;
let pending: VolumeShape | null = null;

/**
 * Loads the MPR's code and warms its renderer for a volume of this shape when the browser is
 * idle. Called while a series that forms a volume is shown: its first MPR then skips React's
 * suspense (whose fallback holds a lazily loaded view back ≈ 300 ms), the engine's start and the
 * volume shader's compile. The latest shape asked for is the one warmed; each shape once.
 */
export function preloadMprView(shape: VolumeShape): void {
  if (!warmUpAllowed()) return;
  pending = shape;
  if (idleQueued) return;
  idleQueued = true;
  const idle = (f: () => void) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 5_000 }) : setTimeout(f, 1_000));
  idle(() => {
    load().then(
      (m) =>
        idle(() => {
          idleQueued = false;
          const s = pending;
          pending = null;
          if (s) void m.warmUpVolumeRendering(s);
        }),
      () => {
        idleQueued = false;
      },
    );
  });
}

export function LazyMprView(props: { seriesId: number; onClose(): void }) {
  // Already loaded: rendered at once (a lazy component suspends on its first render even then).
  // Decided once per mount: switching from the lazy tree to the direct one would remount the view.
  const [direct] = useState(() => loaded?.MprView ?? null);
  if (direct) {
    const View = direct;
    return <View {...props} />;
  }
  return (
    <Suspense fallback={<main className="mpr" aria-label="MPR" data-testid="mpr" data-phase="starting" />}>
      <MprView {...props} />
    </Suspense>
  );
}
