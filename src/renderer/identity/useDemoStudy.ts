/**
 * First start: once a DEMO identity is signed in and nothing is open yet, the DEMO study (anchored by
 * the app's own set-up, so verified) opens in the viewer, instead of "No series open". Once per window.
 */
import { useEffect, useRef } from 'react';
import { call } from '../bridge';
import { useSession } from './session';

export function useOpenDemoStudyOnLogin(open: (seriesId: number) => void, anyOpen: boolean): void {
  const s = useSession();
  const done = useRef(false);
  const studyId = s.demo?.study?.studyId ?? null;
  const demoSignedIn = Boolean(s.current?.demo);
  useEffect(() => {
    if (done.current || anyOpen || !demoSignedIn || studyId === null) return;
    done.current = true;
    call('library.series', { studyId }).then(
      (r) => {
        const first = r.series[0];
        if (first) open(first.id);
      },
      () => undefined,
    );
  }, [demoSignedIn, studyId, anyOpen, open]);
}
