/**
 * A viewport's key-image controls, at the left of its badge row (never over the image): the star that marks the
 * image on screen as a key image (K) and shows that it is one, "Key images only" with the count of the series'
 * key images, and "Save KOS" for the study.
 */
import { memo } from 'react';

interface Props {
  index: number;
  instanceId: string | null;
  ready: boolean;
  isKey: boolean;
  /** Key images of the series shown (with the filter on, the ones in the stack). */
  seriesKeyCount: number;
  /** Key images of the study. */
  studyKeyCount: number;
  keyOnly: boolean;
  busy: boolean;
  onToggle(): void;
  onKeyOnly(on: boolean): void;
  onSave(): void;
}

export const KeyImageControls = memo(function KeyImageControls({ index, instanceId, ready, isKey, seriesKeyCount, studyKeyCount, keyOnly, busy, onToggle, onKeyOnly, onSave }: Props) {
  if (!instanceId) return null;
  return (
    <div className="keyimg" data-testid="key-image-controls" data-index={index}>
      <button
        type="button"
        className={`keyimg__star${isKey ? ' keyimg__star--on' : ''}`}
        aria-pressed={isKey}
        aria-label="Key image"
        data-testid="key-image-toggle"
        disabled={!ready || busy}
        title={isKey ? 'Key image — click or press K to unmark' : 'Mark this image as a key image (K)'}
        onClick={onToggle}
      >
        {isKey ? '★' : '☆'}
        {isKey && <span className="keyimg__label">Key image</span>}
      </button>
      {/* shown once the series has a key image: the badge row stays free for the verification badges until then */}
      {(keyOnly || seriesKeyCount > 0) && (
      <button
        type="button"
        className={`keyimg__btn${keyOnly ? ' keyimg__btn--on' : ''}`}
        aria-pressed={keyOnly}
        aria-label="Key images only"
        data-testid="key-images-only"
        title={keyOnly ? 'Show the whole series again' : `Show only the ${seriesKeyCount} key image(s) of this series`}
        onClick={() => onKeyOnly(!keyOnly)}
      >
        <span className="keyimg__long">Key only</span>
        <span className="keyimg__short">Only</span> <span className="keyimg__count">{seriesKeyCount}</span>
      </button>
      )}
      {studyKeyCount > 0 && (
        <button type="button" className="keyimg__btn keyimg__save" data-testid="key-images-save" aria-label="Save key images (KOS)" title="Save the study's key images as a DICOM Key Object Selection document (KOS)" onClick={onSave}>
          <span className="keyimg__long">Save </span>KOS
        </button>
      )}
    </div>
  );
});
