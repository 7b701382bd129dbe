import { useEffect, useLayoutEffect, useState, useSyncExternalStore } from 'react';
import { InstanceBadge, StudyBadge } from './Badge';
import { requestInstances, setViewerBusy, studyOfSeries, useInstanceCheck, useStudyCheck, verification } from './verification';
import { NoLedgerBadge } from './BrowserBadge';
import { AlteredAlert } from './AlteredAlert';
import { useSession } from '../identity/session';
import type { ViewportBadgeContext } from '../viewer/types';

/** What the viewport's badge slot passes in; verification starts only once `ready` (an image is drawn). */
type Props = ViewportBadgeContext;

/**
 * The per-image and per-study verification badges of one viewport. Nothing is asked before the
 * first image is on screen; then the whole series is checked in one call.
 */
export function ViewerBadges({ index, seriesId, instanceIds, instanceId, ready }: Props) {
  const session = useSession();
  const ledgerState = session.info?.status.state ?? null;
  const configured = ledgerState !== null && ledgerState !== 'not-configured';
  const gen = useSyncExternalStore(verification.subscribe, () => verification.get().generation);
  const [shown, setShown] = useState<string | null>(null); // series whose first image was drawn
  const [studyUid, setStudyUid] = useState<string | null>(null);

  // Layout effect: marked busy in the same task the viewport starts loading, so no study check slips in.
  useLayoutEffect(() => {
    setViewerBusy(index, !!seriesId && shown !== seriesId);
    return () => setViewerBusy(index, false);
  }, [index, seriesId, shown]);

  useEffect(() => {
    if (ready && seriesId) setShown(seriesId);
  }, [ready, seriesId]);

  const active = !!seriesId && shown === seriesId;
  useEffect(() => {
    if (!active || !configured || !instanceIds.length) return;
    // The image on screen first (its badge answers fast), then the rest of the series in one batch.
    if (instanceId) requestInstances([instanceId]);
    requestInstances(instanceIds);
  }, [active, configured, instanceIds, instanceId, gen]);

  useEffect(() => {
    let alive = true;
    setStudyUid(null);
    if (active && configured && seriesId) void studyOfSeries(seriesId).then((u) => alive && setStudyUid(u));
    return () => {
      alive = false;
    };
  }, [active, configured, seriesId]);

  const check = useInstanceCheck(active ? instanceId : null);
  const study = useStudyCheck(active ? studyUid : null);
  if (!active) return null;
  if (ledgerState === 'not-configured') {
    return (
      <div className="vbadges" data-testid="viewer-badges" data-verification="no-ledger">
        <div className="vbadges__row">
          <NoLedgerBadge testId="image-verification" />
        </div>
      </div>
    );
  }
  // The image on screen is altered: the frame and the banner (the study alone being altered shows in its badge).
  const altered = check?.kind === 'done' && check.value.state === 'altered' ? check.value : null;
  return (
    <div className={`vbadges${altered ? ' vbadges--altered' : ''}`} data-testid="viewer-badges" data-verification={check?.kind === 'done' ? check.value.state : check?.kind === 'unreachable' ? 'ledger-unreachable' : (check?.kind ?? 'none')}>
      {altered && <AlteredAlert v={altered} />}
      <div className="vbadges__row">
        <InstanceBadge check={check} studyUid={studyUid} align="center" />
        {studyUid && <StudyBadge check={study} uid={studyUid} testId="viewer-study-verification" align="center" prefix="study " />}
      </div>
    </div>
  );
}
