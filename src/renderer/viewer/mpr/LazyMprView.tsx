/** The MPR view loads its renderer (Cornerstone3D's volume code) on first use, not with the app. */
import { lazy, Suspense } from 'react';

const MprView = lazy(() => import('./MprView').then((m) => ({ default: m.MprView })));

export function LazyMprView(props: { seriesId: number; onClose(): void }) {
  return (
    <Suspense fallback={<main className="mpr" aria-label="MPR" data-testid="mpr" data-phase="starting" />}>
      <MprView {...props} />
    </Suspense>
  );
}
