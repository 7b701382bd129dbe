import { Fragment, useCallback, useEffect, useRef, useState } from 'react';
import type { PacsRetrieveReport, PacsSeries, PacsStudy, PacsStudyQuery, PacsVia } from '../../shared/api';
import { bridge, call } from '../bridge';
import { personName } from '../format';
import { forgetSeriesViews } from '../library/seriesViews';
import { ProgressBar, useTaskProgress } from '../shell/useTask';
import { usePacsConnections } from './connections';
import { pacsProblem, ProblemBox, type PacsProblem } from './problems';
import './pacs.css';

const PAGE_SIZES = [10, 25, 50, 100];
const VIA_LABEL: Record<PacsVia, string> = { 'wado-rs': 'WADO-RS', 'c-get': 'C-GET', 'c-move': 'C-MOVE' };
/** The retrieve method last chosen per connection (this workstation). */
const viaKey = (connectionId: number) => `medimg.pacs.retrieveVia.${connectionId}`;
const MODALITIES = ['CT', 'MR', 'CR', 'DX', 'MG', 'US', 'PT', 'NM', 'XA', 'RF', 'OT', 'SR'];
type DateChoice = 'today' | 'week' | 'any' | 'range';

const iso = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

interface Form {
  name: string;
  id: string;
  date: DateChoice;
  from: string;
  to: string;
  modality: string;
  accession: string;
}

function query(f: Form): Omit<PacsStudyQuery, 'connectionId'> {
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 6 * 86_400_000);
  const dates = f.date === 'today' ? { dateFrom: iso(today), dateTo: iso(today) } : f.date === 'week' ? { dateFrom: iso(weekAgo), dateTo: iso(today) } : f.date === 'range' ? { dateFrom: f.from || undefined, dateTo: f.to || undefined } : {};
  return {
    patientName: f.name.trim() || undefined,
    patientId: f.id.trim() || undefined,
    modality: f.modality || undefined,
    accession: f.accession.trim() || undefined,
    ...dates,
  };
}

interface Retrieval {
  key: string;
  study: string;
  series: string | null;
  label: string;
  running: boolean;
  report: PacsRetrieveReport | null;
  problem: PacsProblem | null;
}

function verificationText(v: Record<string, number>): string {
  const order = ['verified', 'altered', 'not-registered', 'ledger-unreachable'];
  const keys = Object.keys(v).sort((a, b) => (order.indexOf(a) + 99) % 100 - (order.indexOf(b) + 99) % 100);
  return keys.map((k) => `${v[k]} ${k.replace('-', ' ')}`).join(', ');
}

/**
 * Studies on one PACS: search (patient name with wildcards, ID, date, modality, accession; "today" by
 * default), paged results, a row expands to its series; retrieve a study or a series with progress
 * (images/s, MB/s) and cancel. The first image opens in the viewer as soon as it is in the library;
 * the whole series is opened again when the retrieve ends.
 */
export function PacsBrowser({ connectionId, onOpenSeries, onShowLocal }: { connectionId: number; onOpenSeries(seriesId: number, source?: string | null): void; onShowLocal(): void }) {
  const conn = usePacsConnections()?.find((c) => c.id === connectionId) ?? null;
  const [form, setForm] = useState<Form>({ name: '', id: '', date: 'today', from: '', to: '', modality: '', accession: '' });
  const [asked, setAsked] = useState<{ q: Omit<PacsStudyQuery, 'connectionId'>; offset: number } | null>(null);
  const [page, setPage] = useState<{ studies: PacsStudy[]; offset: number; more: boolean; capped: number | null } | null>(null);
  const [pageSize, setPageSize] = useState(25);
  const [searching, setSearching] = useState(false);
  const [problem, setProblem] = useState<PacsProblem | null>(null);
  const [open, setOpen] = useState<Map<string, PacsSeries[] | 'loading' | PacsProblem>>(new Map());
  const [retrieval, setRetrieval] = useState<Retrieval | null>(null);
  const { progress, cancel } = useTaskProgress('pacs-retrieve', retrieval?.running ?? false);
  const shownFirst = useRef<{ taskId: string | null; seriesId: number } | null>(null);
  const retrievingHere = useRef(false);
  // WADO-RS where the connection has DICOMweb, C-GET / C-MOVE where it has DIMSE
  const offered: PacsVia[] = conn ? [...(conn.dicomweb ? (['wado-rs'] as const) : []), ...(conn.dimse ? (['c-get', 'c-move'] as const) : [])] : [];
  const [chosenVia, setChosenVia] = useState<PacsVia | null>(() => localStorage.getItem(viaKey(connectionId)) as PacsVia | null);
  useEffect(() => setChosenVia(localStorage.getItem(viaKey(connectionId)) as PacsVia | null), [connectionId]);
  const via: PacsVia | null = chosenVia && offered.includes(chosenVia) ? chosenVia : (offered[0] ?? null);
  const chooseVia = (v: PacsVia) => {
    localStorage.setItem(viaKey(connectionId), v);
    setChosenVia(v);
  };

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));

  // A new connection: the default query (today's studies).
  useEffect(() => {
    setPage(null);
    setOpen(new Map());
    setProblem(null);
    setAsked({ q: query({ name: '', id: '', date: 'today', from: '', to: '', modality: '', accession: '' }), offset: 0 });
  }, [connectionId]);

  useEffect(() => {
    if (!asked) return;
    let alive = true;
    setSearching(true);
    call('pacs.search', { connectionId, ...asked.q, limit: pageSize, offset: asked.offset }).then(
      (r) => {
        if (!alive) return;
        setPage({ studies: r.studies, offset: r.offset, more: r.more, capped: r.capped });
        setProblem(null);
        setSearching(false);
      },
      (e) => {
        if (!alive) return;
        setPage(null);
        setProblem(pacsProblem(e));
        setSearching(false);
      },
    );
    return () => {
      alive = false;
    };
  }, [asked, connectionId, pageSize]);

  // The first image of a retrieve is in the library: show it while the rest arrives.
  useEffect(
    () =>
      bridge().on((e) => {
        // only this browser's own retrieve (a prior fetched for comparison is opened by the viewer itself)
        if (e.type !== 'pacs-retrieve' || !retrievingHere.current || shownFirst.current) return;
        shownFirst.current = { taskId: e.taskId, seriesId: e.seriesId };
        // the series as this PACS returned it: its copies where they differ from the library's images
        onOpenSeries(e.seriesId, e.source);
      }),
    [onOpenSeries],
  );

  async function toggle(uid: string) {
    if (open.has(uid)) {
      setOpen((m) => {
        const n = new Map(m);
        n.delete(uid);
        return n;
      });
      return;
    }
    setOpen((m) => new Map(m).set(uid, 'loading'));
    try {
      const r = await call('pacs.series', { connectionId, studyInstanceUid: uid });
      setOpen((m) => (m.has(uid) ? new Map(m).set(uid, r.series) : m));
    } catch (e) {
      setOpen((m) => (m.has(uid) ? new Map(m).set(uid, pacsProblem(e)) : m));
    }
  }

  const retrieve = useCallback(
    async (study: string, series: string | null, label: string) => {
      if (retrieval?.running) return;
      shownFirst.current = null;
      retrievingHere.current = true;
      setRetrieval({ key: series ?? study, study, series, label, running: true, report: null, problem: null });
      try {
        const r = await call('pacs.retrieve', { connectionId, studyInstanceUid: study, ...(series ? { seriesInstanceUid: series } : {}), ...(via ? { via } : {}) });
        setRetrieval((x) => x && { ...x, running: false, report: r, problem: r.error ? pacsProblem(r.error) : null });
        if (r.seriesId !== null && !r.cancelled) {
          forgetSeriesViews();
          onOpenSeries(r.seriesId, r.source);
        }
      } catch (e) {
        setRetrieval((x) => x && { ...x, running: false, problem: pacsProblem(e) });
      } finally {
        retrievingHere.current = false;
      }
    },
    [connectionId, onOpenSeries, retrieval?.running, via],
  );

  const busyKey = retrieval?.running ? retrieval.key : null;
  const r = retrieval?.report ?? null;
  const from = page ? page.offset + 1 : 0;
  const to = page ? page.offset + page.studies.length : 0;

  return (
    <div className="pacs-browser" data-testid="pacs-browser">
      <form
        className="pacs-search"
        aria-label="Search the PACS"
        onSubmit={(e) => {
          e.preventDefault();
          setOpen(new Map());
          setAsked({ q: query(form), offset: 0 });
        }}
      >
        <label>
          Patient name
          <input value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="DOE^*" title="* matches any characters, ? one character" spellCheck={false} />
        </label>
        <label>
          Patient ID
          <input value={form.id} onChange={(e) => set('id', e.target.value)} spellCheck={false} />
        </label>
        <label>
          Study date
          <select value={form.date} onChange={(e) => set('date', e.target.value as DateChoice)}>
            <option value="today">Today</option>
            <option value="week">Last 7 days</option>
            <option value="any">Any date</option>
            <option value="range">Date range…</option>
          </select>
        </label>
        {form.date === 'range' && (
          <span className="pacs-search__range">
            <label>
              From
              <input type="date" value={form.from} onChange={(e) => set('from', e.target.value)} />
            </label>
            <label>
              To
              <input type="date" value={form.to} onChange={(e) => set('to', e.target.value)} />
            </label>
          </span>
        )}
        <label>
          Modality
          <select value={form.modality} onChange={(e) => set('modality', e.target.value)}>
            <option value="">Any</option>
            {MODALITIES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Accession
          <input value={form.accession} onChange={(e) => set('accession', e.target.value)} spellCheck={false} />
        </label>
        <button type="submit" className="btn btn--primary" disabled={searching}>
          {searching ? 'Searching…' : 'Search'}
        </button>
      </form>

      {problem && (
        <ProblemBox problem={{ ...problem, message: `${conn ? `${conn.name}: ` : ''}${problem.message}` }} onDismiss={() => setProblem(null)} />
      )}

      {retrieval && (
        <div className="pacs-retrieval" data-testid="pacs-retrieval" data-running={retrieval.running}>
          <div className="pacs-retrieval__head">
            <strong>{retrieval.running ? 'Retrieving' : r?.cancelled ? 'Retrieve cancelled' : retrieval.problem ? 'Retrieve failed' : 'Retrieved'}</strong> {retrieval.label}
            {!retrieval.running && (
              <button type="button" className="btn btn--link" onClick={() => setRetrieval(null)} aria-label="Close retrieve report">
                ×
              </button>
            )}
          </div>
          {retrieval.running && (
            <div className="pacs-retrieval__progress">
              <ProgressBar progress={progress} label="Retrieving from the PACS" />
              <button type="button" className="btn btn--small" onClick={cancel} disabled={!progress}>
                Cancel
              </button>
            </div>
          )}
          {r && (
            <div className="pacs-retrieval__report" data-testid="pacs-retrieve-report">
              {r.received + r.alreadyCached} of {r.listed} images <span data-testid="pacs-retrieve-via-used">by {VIA_LABEL[r.via]}</span>
              {r.alreadyCached ? ` (${r.alreadyCached} already here)` : ''} in {r.seconds.toFixed(1)} s · {r.imagesPerSecond.toFixed(1)} images/s · {r.mbPerSecond.toFixed(1)} MB/s
              {r.failed ? ` · ${r.failed} failed` : ''}
              {Object.keys(r.verification).length > 0 && (
                <div data-testid="pacs-retrieve-verification" className={r.verification.altered ? 'pacs-retrieval__altered' : ''}>
                  Ledger check: {verificationText(r.verification)}
                </div>
              )}
              {r.copies > 0 && (
                <div className="pacs-retrieval__copies" data-testid="pacs-retrieve-copies">
                  {r.copies} image(s) came back from {r.connection} with other bytes than the library's image of the same SOP Instance UID: kept as the PACS copy next to it (the viewer shows them as on this PACS; the library's own images are unchanged).
                </div>
              )}
              {r.notIndexed.length > 0 && (
                <div className="pacs-retrieval__warn" data-testid="pacs-not-indexed">
                  {r.notIndexed.length} image(s) not added to the library: {r.notIndexed[0]!.message}
                </div>
              )}
              {r.studyId !== null && (
                <button type="button" className="btn btn--link" onClick={onShowLocal}>
                  Show in the local library
                </button>
              )}
            </div>
          )}
          {retrieval.problem && <ProblemBox problem={retrieval.problem} testId="pacs-retrieve-error" />}
        </div>
      )}

      <div className="pacs-results">
        {page && (
          <div className="pacs-pager" data-testid="pacs-pager">
            <span data-testid="pacs-count">
              {page.studies.length === 0 ? 'No study matches' : page.offset === 0 && !page.more ? `${page.studies.length} ${page.studies.length === 1 ? 'study' : 'studies'}` : `Studies ${from}–${to}${page.more ? ' (more on the next page)' : ''}`}
            </span>
            {page.capped !== null && (
              <span className="pacs-pager__capped" data-testid="pacs-capped" title="C-FIND, the DIMSE query, has no pages: the app reads a fixed number of matches.">
                First {page.capped} matches of more: narrow the search (patient name, ID, date range, modality).
              </span>
            )}
            <span className="pacs-pager__buttons">
              {offered.length > 1 && (
                <label className="pacs-pager__via" title="How images are retrieved from this PACS (remembered for this connection)">
                  Retrieve by
                  <select aria-label="Retrieve by" data-testid="pacs-retrieve-via" value={via ?? ''} onChange={(e) => chooseVia(e.target.value as PacsVia)} disabled={retrieval?.running ?? false}>
                    {offered.map((v) => (
                      <option key={v} value={v}>
                        {VIA_LABEL[v]}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              <select
                aria-label="Studies per page"
                value={pageSize}
                onChange={(e) => {
                  setPageSize(Number(e.target.value));
                  if (asked) setAsked({ ...asked, offset: 0 });
                }}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n} per page
                  </option>
                ))}
              </select>
              <button type="button" className="btn btn--small" disabled={searching || page.offset === 0} onClick={() => asked && setAsked({ ...asked, offset: Math.max(0, page.offset - pageSize) })}>
                ‹ Previous
              </button>
              <button type="button" className="btn btn--small" disabled={searching || !page.more} onClick={() => asked && setAsked({ ...asked, offset: page.offset + pageSize })}>
                Next ›
              </button>
            </span>
          </div>
        )}
        {page && page.studies.length > 0 && (
          <table className="pacs-table" data-testid="pacs-results">
            <thead>
              <tr>
                <th aria-hidden="true" />
                <th>Patient</th>
                <th>ID</th>
                <th>Date</th>
                <th>Mod.</th>
                <th>Description</th>
                <th title="Series">Se</th>
                <th title="Images">Im</th>
                <th aria-label="Retrieve" />
              </tr>
            </thead>
            <tbody>
              {page.studies.map((s) => {
                const ex = open.get(s.studyInstanceUid);
                return (
                  <Fragment key={s.studyInstanceUid}>
                    <tr className="pacs-study" data-testid="pacs-study" data-uid={s.studyInstanceUid} aria-expanded={ex !== undefined} onClick={() => void toggle(s.studyInstanceUid)}>
                      <td className="pacs-caret" aria-hidden="true">
                        {ex !== undefined ? '▾' : '▸'}
                      </td>
                      <td className="pacs-table__name" title={s.patientName}>
                        <span className="pacs-clamp">{personName(s.patientName) || '—'}</span>
                      </td>
                      <td className="pacs-table__id" title={s.patientId}>
                        {s.patientId}
                      </td>
                      <td>{s.date ?? ''}</td>
                      <td className="pacs-table__mod">{s.modalities.join(' ')}</td>
                      <td className="pacs-table__desc" title={s.description ?? ''}>
                        <span className="pacs-clamp">{s.description ?? ''}</span>
                      </td>
                      <td className="num pacs-table__series">{s.seriesCount ?? ''}</td>
                      <td className="num pacs-table__images">{s.instanceCount ?? ''}</td>
                      <td>
                        <button
                          type="button"
                          className="btn btn--small"
                          data-testid="pacs-retrieve-study"
                          disabled={busyKey !== null}
                          onClick={(e) => {
                            e.stopPropagation();
                            void retrieve(s.studyInstanceUid, null, `${personName(s.patientName)} · ${s.date ?? ''} ${s.description ?? ''}`);
                          }}
                          title="Retrieve the whole study into the local library"
                        >
                          {busyKey === s.studyInstanceUid ? '…' : 'Retrieve'}
                        </button>
                      </td>
                    </tr>
                    {ex !== undefined && (
                      <tr className="pacs-series-row">
                        <td colSpan={9}>
                          {ex === 'loading' ? (
                            <span className="pacs-dim">Listing series…</span>
                          ) : 'reason' in ex ? (
                            <ProblemBox problem={ex} testId="pacs-series-error" />
                          ) : (
                            <ul className="pacs-series" data-testid="pacs-series-list">
                              {ex.length === 0 && <li className="pacs-dim">No series</li>}
                              {ex.map((se) => (
                                <li key={se.seriesInstanceUid} data-testid="pacs-series" data-uid={se.seriesInstanceUid}>
                                  <span className="badge">{se.modality ?? '?'}</span>
                                  <span className="pacs-series__text" title={se.description ?? ''}>
                                    {se.number !== null ? `Se ${se.number}` : ''} {se.description ?? ''}
                                  </span>
                                  <span className="pacs-dim">{se.instanceCount ?? '?'} im</span>
                                  <button
                                    type="button"
                                    className="btn btn--small"
                                    data-testid="pacs-retrieve-series"
                                    disabled={busyKey !== null}
                                    onClick={() => void retrieve(s.studyInstanceUid, se.seriesInstanceUid, `${personName(s.patientName)} · Se ${se.number ?? ''} ${se.description ?? ''}`)}
                                    title="Retrieve this series; its first image opens as soon as it is here"
                                  >
                                    {busyKey === se.seriesInstanceUid ? '…' : 'Retrieve'}
                                  </button>
                                </li>
                              ))}
                            </ul>
                          )}
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        )}
        {!page && !problem && searching && <p className="pacs-dim pacs-pad">Asking the PACS…</p>}
      </div>
    </div>
  );
}
