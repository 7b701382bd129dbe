/**
 * Prior comparison: the same patient's (Patient ID + issuer) most recent earlier study of the same modality,
 * opened beside the open series (1×2: current left, prior right), each labelled with its study date. With a
 * shared frame of reference, scrolling is linked by position at once; otherwise the reader syncs by hand.
 */
import { useCallback, useState, type ReactNode } from 'react';
import type { PriorSearch } from '../../../shared/api';
import { call, BridgeError } from '../../bridge';
import { dicomDate } from '../../format';
import type { SeriesView, ViewportBadges } from '../types';

interface Options {
  series: (SeriesView | null)[];
  active: number;
  /** Opens a series into a viewport (the app's open, with its audit record). */
  openInto(index: number, seriesId: number): Promise<void>;
  setLayout(layout: '1x2'): void;
  setActive(index: number): void;
}

interface Comparison {
  current: { seriesId: string; date: string | null };
  prior: { seriesId: string; date: string | null; description: string | null };
  /** Count of earlier studies found (the most recent is shown). */
  found: number;
}

export function usePriorComparison({ series, active, openInto, setLayout, setActive }: Options) {
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const compare = useCallback(async () => {
    const view = series[active];
    if (!view) return;
    setBusy(true);
    setNotice('Looking for an earlier study of this patient…');
    try {
      const r: PriorSearch = await call('viewing.priors', { seriesId: Number(view.seriesId) });
      if (r.priors.length === 0) {
        setNotice(r.message ?? 'No earlier study of this patient in the local library.');
        return;
      }
      const p = r.priors[0]!;
      setLayout('1x2');
      await openInto(0, Number(view.seriesId));
      await openInto(1, p.seriesId);
      setActive(0);
      setCmp({ current: { seriesId: view.seriesId, date: r.current.date }, prior: { seriesId: String(p.seriesId), date: p.date, description: p.description }, found: r.priors.length });
      setNotice(null);
    } catch (e) {
      setNotice(e instanceof BridgeError ? `${e.error.message}${e.error.hint ? ` ${e.error.hint}` : ''}` : String(e));
    } finally {
      setBusy(false);
    }
  }, [series, active, openInto, setLayout, setActive]);

  /** "CURRENT · 29-Nov-2026" / "PRIOR · 10-Mar-2025" in the badge row of the viewports showing them. */
  const label = useCallback(
    (seriesId: string | null): ReactNode => {
      if (!cmp || !seriesId) return null;
      const which = seriesId === cmp.current.seriesId ? 'current' : seriesId === cmp.prior.seriesId ? 'prior' : null;
      if (!which) return null;
      const date = which === 'current' ? cmp.current.date : cmp.prior.date;
      return (
        <span className={`cmp-label cmp-label--${which}`} data-testid="comparison-label" data-which={which} data-date={date ?? ''}>
          {which === 'current' ? 'CURRENT' : 'PRIOR'}
          <span className="cmp-label__date">{dicomDate(date) || 'no study date'}</span>
        </span>
      );
    },
    [cmp],
  );

  const withLabels = useCallback(
    (inner: ViewportBadges | undefined): ViewportBadges => (ctx) => (
      <>
        {label(ctx.seriesId)}
        {inner?.(ctx)}
      </>
    ),
    [label],
  );

  return { compare, busy, comparison: cmp, notice, clearNotice: () => setNotice(null), setNotice, withLabels };
}
