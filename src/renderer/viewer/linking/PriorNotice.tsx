/**
 * The prior comparison's notice, top right over the viewports: why there is no prior, the offer of an
 * earlier study found on a PACS (retrieve with progress and cancel), or the "Sync here" prompt for a
 * prior in another frame of reference.
 */
import { dicomDate } from '../../format';
import { ProgressBar, useTaskProgress } from '../../shell/useTask';
import type { usePriorComparison } from './usePriorComparison';

type Prior = ReturnType<typeof usePriorComparison>;

export function PriorNotice({ prior, unsynced, onSyncHere }: { prior: Prior; unsynced: boolean; onSyncHere(): void }) {
  const { progress, cancel } = useTaskProgress('pacs-retrieve', prior.retrieving);
  const o = prior.offer;
  if (o) {
    const s = o.study;
    const what = [s.modalities.join('/') || o.current.modality, s.description, dicomDate(s.date) || 'no study date'].filter(Boolean).join(' · ');
    return (
      <div className="cmp-notice" role="status" data-testid="prior-notice" data-offer="pacs">
        <div>
          No earlier {o.current.modality} study of patient {o.current.patientId} in the local library. On the PACS “{o.connection}”:
        </div>
        <div className="cmp-notice__study" data-testid="prior-pacs-study" data-study-uid={s.studyInstanceUid}>
          {what}
          {s.instanceCount !== null ? ` · ${s.instanceCount} images` : ''}
        </div>
        {prior.retrieving ? (
          <div className="cmp-notice__progress">
            <ProgressBar progress={progress} label="Retrieving the prior…" />
            <button type="button" className="btn btn--ghost" onClick={cancel}>
              Cancel
            </button>
          </div>
        ) : (
          <div className="cmp-notice__actions">
            <button type="button" className="btn btn--primary" data-testid="prior-retrieve" onClick={() => void prior.retrieveOffer()}>
              Retrieve and compare
            </button>
            <button type="button" className="btn btn--ghost" aria-label="Dismiss" onClick={prior.clearNotice}>
              ✕
            </button>
          </div>
        )}
      </div>
    );
  }
  if (!prior.notice && !unsynced) return null;
  return (
    <div className="cmp-notice" role="status" data-testid="prior-notice">
      {prior.notice ??
        'The prior study has another frame of reference, so scrolling cannot be linked by position. Scroll both to the same anatomy, then press "Sync here" to link them at these slices.'}
      {unsynced && !prior.notice && (
        <button type="button" className="btn" onClick={onSyncHere}>
          Sync here
        </button>
      )}
      {prior.notice && (
        <button type="button" className="btn btn--ghost" aria-label="Dismiss" onClick={prior.clearNotice}>
          ✕
        </button>
      )}
    </div>
  );
}
