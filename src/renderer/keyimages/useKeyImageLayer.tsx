/**
 * Key images in the viewer, as one piece the app plugs in (App.tsx): per viewport the key-image controls in its
 * badge row (beside the verification badges), "Key images only" (a filtered SeriesView for the viewport), the K
 * shortcut for the image on screen in the active viewport, and the "Save key images (KOS)" dialog.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SeriesView, ViewportBadgeContext, ViewportBadges } from '../viewer/types';
import { KOS_SOP_CLASS_UID } from '../../shared/api';
import { BridgeError, call } from '../bridge';
import { KeyImageControls } from './KeyImageControls';
import { SaveKosDialog } from './SaveKosDialog';
import { useKeyImageFilter } from './useKeyImageFilter';
import { useKeyImages } from './useKeyImages';

interface Options {
  series: (SeriesView | null)[];
  /** The image on screen in the active viewport. */
  activeInstanceId: string | null;
  /** The app's other badges (verification), given the whole series' instance ids even while filtered. */
  badges?: ViewportBadges;
  onError(message: string): void;
}

export interface KeyImageLayer {
  /** What each viewport shows: its series, or only its key images. */
  viewSeries: (SeriesView | null)[];
  badges: ViewportBadges;
  dialog: ReactNode;
  setKeyOnly(index: number, on: boolean): void;
}

const idsOf = new WeakMap<SeriesView, string[]>();
function instanceIds(s: SeriesView): string[] {
  let ids = idsOf.get(s);
  if (!ids) idsOf.set(s, (ids = s.instances.map((i) => i.id)));
  return ids;
}

export function useKeyImageLayer({ series, activeInstanceId, badges, onError }: Options): KeyImageLayer {
  const seriesIds = series.map((s) => (s ? Number(s.seriesId) : null));
  const keys = useKeyImages(seriesIds);
  const [keyOnly, setKeyOnlyState] = useState<boolean[]>([false, false, false, false]);
  const [busy, setBusy] = useState(false);
  const [saving, setSaving] = useState<number | null>(null); // the series whose study is being saved
  const viewSeries = useKeyImageFilter(series, keyOnly, keys.keyIds);

  const setKeyOnly = useCallback((index: number, on: boolean) => setKeyOnlyState((prev) => (prev[index] === on ? prev : prev.map((v, i) => (i === index ? on : v)))), []);

  // The last key image of a filtered series unmarked: the whole series again.
  useEffect(() => {
    series.forEach((s, i) => {
      if (s && keyOnly[i] && !s.instances.some((x) => keys.keyIds.has(x.id))) setKeyOnly(i, false);
    });
  }, [series, keyOnly, keys.keyIds, setKeyOnly]);

  const toggle = useCallback(
    async (instanceId: string | null) => {
      if (!instanceId || busy) return;
      setBusy(true);
      try {
        await keys.toggle(Number(instanceId));
      } catch (e) {
        onError(e instanceof BridgeError ? `${e.error.message}${e.error.hint ? ` ${e.error.hint}` : ''}` : String(e));
      } finally {
        setBusy(false);
      }
    },
    [keys, busy, onError],
  );

  // K: mark / unmark the image on screen in the active viewport (listed in the shortcuts help as "external").
  const current = useRef({ activeInstanceId, toggle });
  current.current = { activeInstanceId, toggle };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      // the stack scrollbar keeps the focus after a drag: it is a slider, not a text field (as in useShortcutKeys)
      const slider = t?.tagName === 'INPUT' && (t as HTMLInputElement).type === 'range';
      const typing = !!t && !slider && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
      if (typing || e.ctrlKey || e.metaKey || e.altKey || (e.key !== 'k' && e.key !== 'K')) return;
      e.preventDefault();
      void current.current.toggle(current.current.activeInstanceId);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const composed = useCallback<ViewportBadges>(
    (vp: ViewportBadgeContext) => {
      const s = series[vp.index] ?? null;
      const list = keys.listOf(s ? Number(s.seriesId) : null);
      const whole = s ? instanceIds(s) : [];
      const seriesKeyCount = whole.filter((id) => keys.keyIds.has(id)).length;
      return (
        <div className="keyimg-row">
          <KeyImageControls
            index={vp.index}
            instanceId={vp.instanceId}
            ready={vp.ready}
            isKey={!!vp.instanceId && keys.keyIds.has(vp.instanceId)}
            seriesKeyCount={seriesKeyCount}
            studyKeyCount={list?.images.length ?? 0}
            keyOnly={keyOnly[vp.index] ?? false}
            busy={busy}
            onToggle={() => void toggle(vp.instanceId)}
            onKeyOnly={(on) => setKeyOnly(vp.index, on)}
            onSave={() => s && setSaving(Number(s.seriesId))}
          />
          <div className="keyimg-row__badges">{badges?.({ ...vp, instanceIds: whole })}</div>
        </div>
      );
    },
    [series, keys, keyOnly, busy, toggle, setKeyOnly, badges],
  );

  const dialog = useMemo(
    () =>
      saving === null ? null : (
        <SaveKosDialog count={keys.listOf(saving)?.images.length ?? 0} save={(title, description) => keys.save(saving, title, description)} onClose={() => setSaving(null)} />
      ),
    [saving, keys],
  );

  return { viewSeries, badges: composed, dialog, setKeyOnly };
}

/**
 * A Key Object Selection document is not an image: opening its series opens instead the series of its first key
 * image in the library, filtered to the key images. Null for any other series.
 */
export async function keyObjectTarget(view: SeriesView): Promise<number | null> {
  if (view.modality !== 'KO') return null;
  const list = await call('keyImages.list', { seriesId: Number(view.seriesId) });
  const first = list.images.find((i) => i.seriesId !== null && i.sopClassUid !== KOS_SOP_CLASS_UID);
  if (!first) {
    throw new BridgeError({
      code: 'NOT_FOUND',
      message: 'This Key Object Selection document names no image that is in the library.',
      hint: 'Retrieve or import the rest of the study; its key images are then marked ★.',
    });
  }
  return first.seriesId;
}
