import { edgeMarkers } from '../../shared/viewer/orientation';
import type { ImageMeta } from './meta';
import type { StackItem } from './types';
import type { ViewInfo } from './viewState';
import type { PointerValue } from './usePointerValue';

/** The corner texts come straight from the image's header meta; the markers follow the view. */
export type Overlay = Pick<ImageMeta, 'patient' | 'patientId' | 'study' | 'studyDate' | 'series' | 'modality' | 'position' | 'thickness' | 'ageSex' | 'exposure' | 'unit'> & {
  markers: ReturnType<typeof edgeMarkers>;
};

export function overlayFor(meta: ImageMeta | undefined, view: ViewInfo | null): Overlay | null {
  if (!meta) return null;
  return {
    patient: meta.patient,
    patientId: meta.patientId,
    study: meta.study,
    studyDate: meta.studyDate,
    series: meta.series,
    modality: meta.modality,
    position: meta.position,
    thickness: meta.thickness,
    ageSex: meta.ageSex,
    exposure: meta.exposure,
    unit: meta.unit,
    markers: view ? edgeMarkers(meta.iop, view) : null,
  };
}

interface Props {
  overlay: Overlay | null;
  /** True when the image is drawn (else the overlay is dimmed for screen readers and W/L is not shown). */
  ready: boolean;
  item: StackItem | undefined;
  pos: number;
  count: number;
  view: ViewInfo | null;
  cine: { playing: boolean; fps: number };
  /** The name of the window preset shown (CT preset matched by its values, or the MR / PET preset last applied), else null. */
  presetName?: string | null;
  /** The pixel under the mouse. */
  pointer?: PointerValue | null;
  /** A note on how the image is rendered (the CPU fallback), with its explanation. */
  note?: { text: string; title: string } | null;
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** "HU 43" on CT; elsewhere the stored value, and the rescaled value with its unit when the file has a rescale. */
export function pointerText(p: PointerValue, modality: string, unit: string): string {
  if (modality === 'CT') return `HU ${num(p.value)}`;
  return p.rescaled ? `Val ${num(p.stored)} = ${num(p.value)}${unit ? ` ${unit}` : ''}` : `Val ${num(p.stored)}`;
}

/** The four corners over the image: patient and study, modality and series, slice, window and zoom; and the orientation markers. */
export function ViewportOverlay({ overlay, ready, item, pos, count, view, cine, presetName = null, pointer = null, note = null }: Props) {
  const markers = overlay?.markers;
  return (
    <div className="overlay" data-testid="overlay" aria-hidden={!ready}>
      {overlay && (
        <>
          <div className="overlay__corner overlay__corner--tl">
            <div className="overlay__strong">{overlay.patient}</div>
            <div>
              {overlay.patientId}
              {overlay.ageSex && <span data-testid="overlay-age-sex">{overlay.patientId ? ' · ' : ''}{overlay.ageSex}</span>}
            </div>
            <div>{overlay.studyDate}</div>
            <div>{overlay.study}</div>
          </div>
          <div className="overlay__corner overlay__corner--tr">
            <div className="overlay__strong">{overlay.modality}</div>
            <div>{overlay.series}</div>
            {overlay.exposure && <div data-testid="overlay-exposure">{overlay.exposure}</div>}
            {note && (
              <div className="overlay__note" data-testid="cpu-rendering-note" role="status" title={note.title}>
                {note.text}
              </div>
            )}
          </div>
        </>
      )}
      <div className="overlay__corner overlay__corner--bl" data-testid="overlay-slice">
        <div>
          Im {count ? pos + 1 : 0}/{count}
          {item && item.frame > 0 ? ` · fr ${item.frame + 1}` : ''}
        </div>
        {overlay?.position && <div>{overlay.position}</div>}
        {overlay?.thickness && <div>{overlay.thickness}</div>}
      </div>
      {view && ready && (
        <div className="overlay__corner overlay__corner--br" data-testid="overlay-wl">
          {pointer && (
            <div data-testid="overlay-pointer">
              {pointerText(pointer, overlay?.modality ?? '', overlay?.unit ?? '')} · ({pointer.x}, {pointer.y})
            </div>
          )}
          {presetName && <div data-testid="overlay-preset">{presetName}</div>}
          <div>
            W {Math.round(view.ww)} L {Math.round(view.wc)}
            {view.invert ? ' · inv' : ''}
          </div>
          <div>Zoom {(view.scale * 100).toFixed(0)}%</div>
          {cine.playing && <div>Cine {cine.fps} fps</div>}
        </div>
      )}
      {markers && ready && <OrientationMarkers markers={markers} />}
    </div>
  );
}

/** The patient directions at the image's four edges (A/P, R/L, H/F), turned and flipped with the view. */
function OrientationMarkers({ markers }: { markers: NonNullable<Overlay['markers']> }) {
  return (
    <>
      <div className="overlay__marker overlay__marker--top" data-testid="marker-top">{markers.top}</div>
      <div className="overlay__marker overlay__marker--right" data-testid="marker-right">{markers.right}</div>
      <div className="overlay__marker overlay__marker--bottom" data-testid="marker-bottom">{markers.bottom}</div>
      <div className="overlay__marker overlay__marker--left" data-testid="marker-left">{markers.left}</div>
    </>
  );
}
