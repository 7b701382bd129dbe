import { useEffect, useState, useSyncExternalStore } from 'react';
import type { InstanceVerification } from '../../shared/api';
import { StudyBadge } from './Badge';
import { useSession } from '../identity/session';
import { seriesView } from '../library/seriesViews';
import { differsText } from './AlteredAlert';
import { useStudyCheck, verification } from './verification';

/** A study's verification in the browser (worst instance state), or "no ledger" when none is configured. */
export function BrowserStudyBadge({ uid }: { uid: string }) {
  const s = useSession();
  const state = s.info?.status.state ?? null;
  const enabled = state !== null && state !== 'not-configured';
  const check = useStudyCheck(uid, enabled);
  if (state === 'not-configured') return <NoLedgerBadge testId="study-verification" compact />;
  // Altered is said in words too (not by a red dot alone), and the row gets a red frame (styles: .tree__study--altered).
  const altered = check?.kind === 'done' && check.value.state === 'altered';
  return <StudyBadge check={check} uid={uid} compact={!altered} testId="study-verification" align="left" prefix={altered ? 'study ' : undefined} />;
}

/**
 * A series row's mark when one of its images is altered: "ALTERED · 1 of 40 images · pixel data",
 * from the study's check (and any newer per-image check of the viewer). Nothing for other states:
 * the study row carries those.
 */
export function AlteredSeriesMark({ seriesId, studyUid }: { seriesId: number; studyUid: string }) {
  const s = useSession();
  const enabled = (s.info?.status.state ?? 'not-configured') !== 'not-configured';
  const study = useStudyCheck(studyUid, enabled);
  const known = useSyncExternalStore(verification.subscribe, verification.get).instances;
  const studyAltered = study?.kind === 'done' ? study.value.instances.filter((i) => i.state === 'altered') : [];
  const anyAltered = studyAltered.length > 0 || [...known.values()].some((c) => c.kind === 'done' && c.value.state === 'altered' && c.value.studyInstanceUid === studyUid);
  const ids = useSeriesInstanceIds(anyAltered ? seriesId : null);
  if (!enabled || !anyAltered || !ids) return null;
  const altered = new Map<string, InstanceVerification>();
  for (const v of studyAltered) if (v.instanceId !== null && ids.has(String(v.instanceId))) altered.set(String(v.instanceId), v);
  // A newer check of one image (the viewer's) wins over the study's answer for it.
  for (const id of ids) {
    const c = known.get(id);
    if (c?.kind !== 'done') continue;
    if (c.value.state === 'altered') altered.set(id, c.value);
    else if (new Date(c.value.checkedAt) > new Date(altered.get(id)?.checkedAt ?? 0)) altered.delete(id);
  }
  if (!altered.size) return null;
  const differs = new Set([...altered.values()].flatMap((v) => v.differs));
  const what = differsText([...differs]);
  const text = `ALTERED · ${altered.size} of ${ids.size} image${ids.size === 1 ? '' : 's'} · ${what}`;
  return (
    <span className="series__alert" data-testid="series-altered" data-count={altered.size} title={`${text}: do not rely on ${altered.size === 1 ? 'this image' : 'these images'} for diagnosis; compare with the PACS copy.`}>
      <span aria-hidden="true">✕ </span>
      {text}
    </span>
  );
}

/** The instance ids of a series (null while not asked or loading). */
function useSeriesInstanceIds(seriesId: number | null): Set<string> | null {
  const [ids, setIds] = useState<{ id: number; set: Set<string> } | null>(null);
  useEffect(() => {
    if (seriesId === null) return;
    let alive = true;
    seriesView(seriesId).then(
      (v) => alive && setIds({ id: seriesId, set: new Set(v.instances.map((i) => i.id)) }),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [seriesId]);
  return ids && ids.id === seriesId ? ids.set : null;
}

/** Nothing can be verified: no ledger is configured in this app. Never "verified". */
export function NoLedgerBadge({ testId, compact }: { testId: string; compact?: boolean }) {
  const title = 'Not verified: no ledger is configured, so nothing is checked.';
  return (
    <span className="vbadge-wrap">
      <span className={`vbadge vbadge--ledger-unreachable${compact ? ' vbadge--compact' : ''}`} data-testid={testId} data-state="no-ledger" title={title} aria-label={title}>
        <span className="vbadge__icon" aria-hidden="true">
          !
        </span>
        {compact ? null : <span className="vbadge__text">no ledger</span>}
      </span>
    </span>
  );
}
