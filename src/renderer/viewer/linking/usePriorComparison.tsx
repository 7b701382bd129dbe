/**
 * Prior comparison: the same patient's (Patient ID + issuer) most recent earlier study of the same modality,
 * opened beside the open series (1×2: current left, prior right), each labelled with its study date. With a
 * shared frame of reference, scrolling is linked by position at once; otherwise the reader syncs by hand.
 * When the local library has none, the configured PACS connections are searched (pacsPriors.ts) and the
 * most recent earlier study found is offered: "Retrieve and compare" fetches its most similar series
 * (with progress and cancel), then the local search opens it, checking the issuer on the files.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { PacsConnectionInfo, PacsStudy, PriorSearch } from '../../../shared/api';
import { call } from '../../bridge';
import { errText } from '../../errors';
import { dicomDate } from '../../format';
import { pacsProblem } from '../../pacs/problems';
import type { SeriesView, ViewportBadges } from '../types';
import { comparableSeries, earlierStudies, priorQueryDateTo } from './pacsPriors';

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

/** An earlier study found on a PACS, offered for retrieval. */
export interface PacsPriorOffer {
  connectionId: number;
  connection: string;
  study: PacsStudy;
  /** The open series whose prior it is. */
  seriesId: number;
  current: PriorSearch['current'];
}

/** Every configured PACS asked for the patient's earlier studies of the modality; the most recent found, and who could not be asked. */
async function searchPacs(connections: PacsConnectionInfo[], current: PriorSearch['current'], seriesId: number): Promise<{ offer: PacsPriorOffer | null; searched: string[]; failed: string[] }> {
  const dateTo = priorQueryDateTo(current);
  let offer: PacsPriorOffer | null = null;
  const searched: string[] = [];
  const failed: string[] = [];
  for (const c of connections) {
    try {
      const r = await call('pacs.search', { connectionId: c.id, patientId: current.patientId, modality: current.modality, ...(dateTo ? { dateTo } : {}), limit: 100 });
      searched.push(c.name);
      const found = earlierStudies(current, r.studies)[0];
      if (found && (!offer || earlierStudies(current, [offer.study, found])[0] === found)) offer = { connectionId: c.id, connection: c.name, study: found, seriesId, current };
    } catch (e) {
      const p = pacsProblem(e);
      failed.push(`“${c.name}” could not be searched (${p.title}).${p.hint ? ` ${p.hint}` : ''}`);
    }
  }
  return { offer, searched, failed };
}

export function usePriorComparison({ series, active, openInto, setLayout, setActive }: Options) {
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const [offer, setOffer] = useState<PacsPriorOffer | null>(null);
  const [retrieving, setRetrieving] = useState(false);
  // The comparison ends when its current or its prior leaves the screen: a PRIOR label must never stay on
  // a study beside another patient's series dropped into the other viewport.
  useEffect(() => {
    if (!cmp) return;
    const shown = (id: string) => series.some((v) => v?.seriesId === id);
    if (!shown(cmp.current.seriesId) || !shown(cmp.prior.seriesId)) setCmp(null);
  }, [series, cmp]);

  /** The local prior beside the current series (1×2, labelled). */
  const openComparison = useCallback(
    async (seriesId: number, r: PriorSearch) => {
      const p = r.priors[0]!;
      setLayout('1x2');
      await openInto(0, seriesId);
      await openInto(1, p.seriesId);
      setActive(0);
      setCmp({ current: { seriesId: String(seriesId), date: r.current.date }, prior: { seriesId: String(p.seriesId), date: p.date, description: p.description }, found: r.priors.length });
      setNotice(null);
    },
    [openInto, setLayout, setActive],
  );

  const compare = useCallback(async () => {
    const view = series[active];
    if (!view) return;
    setBusy(true);
    setOffer(null);
    setNotice('Looking for an earlier study of this patient…');
    try {
      const seriesId = Number(view.seriesId);
      const r: PriorSearch = await call('viewing.priors', { seriesId });
      if (r.priors.length > 0) return await openComparison(seriesId, r);
      const local = r.message ?? 'No earlier study of this patient in the local library.';
      // Without a Patient ID, modality or date a PACS cannot be asked either: the local reason says why.
      if (!r.current.patientId.trim() || !r.current.modality || !r.current.date) return setNotice(local);
      const { connections } = await call('pacs.connections.list', {});
      if (connections.length === 0) return setNotice(local);
      setNotice(`${local} Looking on the PACS…`);
      const pacs = await searchPacs(connections, r.current, seriesId);
      if (pacs.offer) {
        setOffer(pacs.offer);
        setNotice(null);
        return;
      }
      const nowhere = pacs.searched.length > 0 ? ` None on ${pacs.searched.map((n) => `“${n}”`).join(', ')} either.` : '';
      setNotice(`${local}${nowhere}${pacs.failed.length ? ` ${pacs.failed.join(' ')}` : ''}`);
    } catch (e) {
      setNotice(errText(e));
    } finally {
      setBusy(false);
    }
  }, [series, active, openComparison]);

  /** Retrieves the offered study's most similar series, then opens it as the prior (the issuer checked on its files). */
  const retrieveOffer = useCallback(async () => {
    const o = offer;
    if (!o || retrieving) return;
    setRetrieving(true);
    try {
      const { series: list } = await call('pacs.series', { connectionId: o.connectionId, studyInstanceUid: o.study.studyInstanceUid });
      const pick = comparableSeries(o.current, list);
      if (!pick) {
        setOffer(null);
        setNotice(`The study of ${dicomDate(o.study.date) || 'unknown date'} on “${o.connection}” has no ${o.current.modality} series to compare with.`);
        return;
      }
      const report = await call('pacs.retrieve', { connectionId: o.connectionId, studyInstanceUid: o.study.studyInstanceUid, seriesInstanceUid: pick.seriesInstanceUid });
      setOffer(null);
      if (report.cancelled) return setNotice('Retrieve of the prior cancelled. What arrived stays in the library.');
      if (report.error) {
        const p = pacsProblem(report.error);
        return setNotice(`The prior could not be retrieved from “${o.connection}”: ${p.message}${p.hint ? ` ${p.hint}` : ''}`);
      }
      const r: PriorSearch = await call('viewing.priors', { seriesId: o.seriesId });
      const retrieved = r.priors.find((p) => p.studyId === report.studyId);
      if (retrieved) return await openComparison(o.seriesId, { ...r, priors: [retrieved, ...r.priors.filter((p) => p !== retrieved)] });
      setNotice(
        `The study retrieved from “${o.connection}” is in the library but is not shown as this patient's prior: its files give another Issuer of Patient ID, date or modality. Open it from the study browser to compare by hand.`,
      );
    } catch (e) {
      setOffer(null);
      setNotice(errText(e));
    } finally {
      setRetrieving(false);
    }
  }, [offer, retrieving, openComparison]);

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

  return {
    compare,
    busy: busy || retrieving,
    comparison: cmp,
    notice,
    clearNotice: () => {
      setNotice(null);
      if (!retrieving) setOffer(null);
    },
    setNotice,
    withLabels,
    /** An earlier study on a PACS (none in the library), and its retrieval. */
    offer,
    retrieving,
    retrieveOffer,
  };
}
