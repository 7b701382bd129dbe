import { memo } from 'react';
import type { TrustToolbarProps } from './TrustLayer';

/**
 * The trust panel, export and share buttons (the audit log opens from the trust panel). Kept out of the tool
 * strip (which clips when the top bar is narrow) so the trust panel stays one click away.
 */
export const TrustButtons = memo(function TrustButtons({ drawerOpen, hasStudy, onTrust, onExport, onShare }: TrustToolbarProps) {
  return (
    <div className="toolbar__group trustbar" role="group" aria-label="Trust and sharing">
      <button
        type="button"
        className={`tbtn tbtn--text tbtn--trust${drawerOpen ? ' tbtn--on' : ''}`}
        aria-pressed={drawerOpen}
        aria-label="Trust"
        title="Trust panel: credit score, verification, consents, sharing history (U)"
        onClick={onTrust}
      >
        Trust
      </button>
      <button type="button" className="tbtn tbtn--text" aria-label="Export" title="Export the study, series or image" disabled={!hasStudy} onClick={onExport}>
        Export…
      </button>
      <button type="button" className="tbtn tbtn--text" aria-label="Share" title="Share the study with another institution" disabled={!hasStudy} onClick={onShare}>
        Share…
      </button>
    </div>
  );
});
