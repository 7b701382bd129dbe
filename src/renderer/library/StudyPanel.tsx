import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import type { ImportReport, SeriesSummary, SortKey, SortOrder, StudySummary } from '../../shared/api';
import { bridge, BridgeError, call } from '../bridge';
import { ImportPanel } from './ImportPanel';
import { forgetSeriesViews, prefetchSeriesView, sourceName } from './seriesViews';
import { SERIES_MIME } from '../viewer/seriesDrop';
import { AlteredSeriesMark, BrowserStudyBadge } from '../verification/BrowserBadge';
import { dicomDate, personName } from '../format';
import { PacsBrowser } from '../pacs/PacsBrowser';
import { SourceSwitch, type StudySource } from '../pacs/SourceSwitch';
import { SendToPacsDialog } from '../pacs/SendToPacsDialog';
import { usePacsConnections } from '../pacs/connections';

interface Props {
  dropped: { paths: string[]; skipped: number; seq: number } | null;
  openSeriesId: number | null;
  /** `source`: open the series as that PACS returned it ("pacs:<connection>"). */
  onOpenSeries(seriesId: number, source?: string | null): void;
  /** Series ids removed from the index (so viewports showing them close). */
  onRemoved(seriesIds: number[] | 'all-of-study', studyId?: number): void;
  /** Opens the whole study by its hanging protocol (src/renderer/hanging). */
  onOpenStudy?(studyId: number): void;
}

interface PatientGroup {
  key: string;
  name: string;
  patientId: string;
  birthDate: string | null;
  sex: string | null;
  dbId: number;
  studies: StudySummary[];
}

const PLURALS: Record<string, string> = { study: 'studies', series: 'series' };
function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : (PLURALS[word] ?? `${word}s`)}`;
}

const SORT_LABEL: Record<SortKey, string> = { name: 'Name', id: 'Patient ID', date: 'Study date', modality: 'Modality' };

/** Patients → studies → series, with search, sort, counts, thumbnails, removal and import. */
export const StudyPanel = memo(function StudyPanel({ dropped, openSeriesId, onOpenSeries, onRemoved, onOpenStudy }: Props) {
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<SortKey>('name');
  const [order, setOrder] = useState<SortOrder>('asc');
  const [studies, setStudies] = useState<StudySummary[] | null>(null);
  const [total, setTotal] = useState(0);
  const [expanded, setExpanded] = useState<Set<number>>(new Set());
  const [series, setSeries] = useState<Map<number, SeriesSummary[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [source, setSource] = useState<StudySource>('local');
  /** Study Instance UID → its split instances (Settings → Storage; the study shows a SPLIT mark). */
  const [splitStudies, setSplitStudies] = useState<Map<string, number>>(new Map());
  const [sending, setSending] = useState<{ studyId: number; seriesId?: number; title: string } | null>(null);
  const hasPacs = (usePacsConnections()?.length ?? 0) > 0;

  const refresh = useCallback(() => {
    forgetSeriesViews();
    setVersion((v) => v + 1);
  }, []);

  useEffect(() => {
    let alive = true;
    const t = setTimeout(
      () => {
        call('library.studies', { search: search.trim() || undefined, sort, order, limit: 5000 }).then(
          (r) => {
            if (!alive) return;
            setStudies(r.studies);
            setTotal(r.total);
            setError(null);
            call('split.studies', {}).then(
              (sp) => alive && setSplitStudies(new Map(sp.studies.map((x) => [x.studyInstanceUid, x.instances]))),
              () => undefined,
            );
          },
          (e) => {
            if (!alive) return;
            setStudies((prev) => prev ?? []);
            setError(e instanceof BridgeError ? e.error.message : String(e));
          },
        );
      },
      search ? 150 : 0,
    );
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [search, sort, order, version]);

  // Series of expanded studies (refetched when the index changes).
  useEffect(() => {
    let alive = true;
    for (const id of expanded) {
      call('library.series', { studyId: id }).then(
        (r) => alive && setSeries((m) => new Map(m).set(id, r.series)),
        () => alive && setSeries((m) => new Map(m).set(id, [])),
      );
    }
    return () => {
      alive = false;
    };
  }, [expanded, version]);

  useEffect(
    () =>
      bridge().on((e) => {
        if (e.type === 'library-changed') refresh();
      }),
    [refresh],
  );

  const groups = useMemo(() => {
    const out: PatientGroup[] = [];
    const byKey = new Map<number, PatientGroup>();
    for (const s of studies ?? []) {
      let g = byKey.get(s.patient.id);
      if (!g) {
        g = { key: String(s.patient.id), dbId: s.patient.id, name: personName(s.patient.name), patientId: s.patient.patientId, birthDate: s.patient.birthDate, sex: s.patient.sex, studies: [] };
        byKey.set(s.patient.id, g);
        out.push(g);
      }
      g.studies.push(s);
    }
    return out;
  }, [studies]);

  const counts = useMemo(() => {
    const list = studies ?? [];
    return { patients: groups.length, studies: list.length, series: list.reduce((a, s) => a + s.seriesCount, 0), images: list.reduce((a, s) => a + s.instanceCount, 0) };
  }, [studies, groups]);

  function toggle(id: number) {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function remove(what: { patientId?: number; studyId?: number; seriesId?: number }, key: string) {
    if (confirming !== key) {
      setConfirming(key);
      return;
    }
    setConfirming(null);
    try {
      const seriesIds = what.seriesId ? [what.seriesId] : [];
      await call('library.remove', what);
      if (what.seriesId) onRemoved(seriesIds);
      else onRemoved('all-of-study', what.studyId);
      refresh();
    } catch (e) {
      setError(e instanceof BridgeError ? e.error.message : String(e));
    }
  }

  function onImported(r: ImportReport) {
    refresh();
    const first = r.studyIds[0];
    if (first !== undefined) setExpanded((prev) => new Set(prev).add(first));
  }

  const empty = studies !== null && studies.length === 0 && !search;

  if (source !== 'local') {
    return (
      <aside className="panel panel--pacs" aria-label="Studies">
        <header className="panel__header panel__header--switch">
          <h2>Studies</h2>
          <SourceSwitch value={source} onChange={setSource} />
        </header>
        <PacsBrowser key={source} connectionId={source} onOpenSeries={onOpenSeries} onShowLocal={() => setSource('local')} />
      </aside>
    );
  }

  return (
    <aside className="panel" aria-label="Studies">
      <header className="panel__header panel__header--switch">
        <h2>Studies</h2>
        <SourceSwitch value={source} onChange={setSource} />
      </header>
      {studies && studies.length > 0 && (
          <div className="panel__counts" data-testid="browser-counts">
            {plural(counts.patients, 'patient')} · {plural(counts.studies, 'study')} · {plural(counts.series, 'series')} ·{' '}
            {plural(counts.images, 'image')}
            {total > counts.studies ? ` (of ${total})` : ''}
          </div>
      )}
      <ImportPanel dropped={dropped} onImported={onImported} />
      <div className="panel__search">
        <input
          type="search"
          placeholder="Search patient, ID, modality…"
          aria-label="Search studies"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
         
        />
        <div className="panel__sort">
          <label>
            Sort
            <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)} aria-label="Sort by">
              {(Object.keys(SORT_LABEL) as SortKey[]).map((k) => (
                <option key={k} value={k}>
                  {SORT_LABEL[k]}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="btn btn--small"
            aria-label={order === 'asc' ? 'Ascending (click for descending)' : 'Descending (click for ascending)'}
            onClick={() => setOrder((o) => (o === 'asc' ? 'desc' : 'asc'))}
          >
            {order === 'asc' ? '↑ A–Z' : '↓ Z–A'}
          </button>
        </div>
      </div>
      {error && (
        <div className="panel__error" role="alert">
          {error}
        </div>
      )}
      {empty ? (
        <div className="panel__empty" data-testid="studies-empty">
          <p className="panel__empty-title">No studies yet</p>
          <p>Import DICOM files or a folder to start reading.</p>
        </div>
      ) : (
        <div className="tree" role="tree" aria-label="Patients, studies and series" data-testid="study-tree">
          {studies && studies.length === 0 && <p className="tree__none">No study matches “{search}”.</p>}
          {groups.map((g) => (
            <div className="tree__patient" role="treeitem" aria-expanded="true" key={g.key} data-testid="patient-row" data-patient-id={g.patientId}>
              <div className="tree__patient-head">
                <span className="tree__patient-name" title={g.name}>
                  {g.name || 'Unnamed patient'}
                </span>
                <span className="tree__meta">
                  {g.patientId || 'no ID'}
                  {g.birthDate ? ` · ${dicomDate(g.birthDate)}` : ''}
                  {g.sex ? ` · ${g.sex}` : ''}
                </span>
                <button
                  type="button"
                  className={`btn btn--remove${confirming === `p${g.dbId}` ? ' btn--danger' : ''}`}
                  onClick={() => void remove({ patientId: g.dbId }, `p${g.dbId}`)}
                  onBlur={() => setConfirming(null)}
                  aria-label={`Remove patient ${g.name || g.patientId} from the index`}
                  title="Remove from the index (files on disk are kept)"
                >
                  {confirming === `p${g.dbId}` ? 'Remove?' : '×'}
                </button>
              </div>
              {g.studies.map((s) => {
                const open = expanded.has(s.id);
                return (
                  <div className="tree__study" key={s.id} data-testid="study-row" data-study-id={s.id}>
                    <div className="tree__study-head">
                      <button type="button" className="tree__toggle" aria-expanded={open} onClick={() => toggle(s.id)} title={s.studyInstanceUid}>
                        <span className="tree__caret" aria-hidden="true">
                          {open ? '▾' : '▸'}
                        </span>
                        <span className="tree__study-date">{dicomDate(s.date) || 'no date'}</span>
                        <span className="tree__study-desc">{s.description || 'Study'}</span>
                        <span className="tree__badges">
                          {s.modalities.map((m) => (
                            <span className="badge" key={m}>
                              {m}
                            </span>
                          ))}
                          {s.synthetic && <span className="badge badge--synthetic" title="Generated sample data, not a patient">SYNTHETIC</span>}
                          {splitStudies.has(s.studyInstanceUid) && (
                            <span
                              className="badge badge--split"
                              data-testid="split-mark"
                              title={`Split storage: ${splitStudies.get(s.studyInstanceUid)} image(s) kept as metadata here and encrypted pixels in the pixel store; opened by rebuilding the original`}
                            >
                              SPLIT
                            </span>
                          )}
                        </span>
                        <span className="tree__count">
                          {s.seriesCount} se · {s.instanceCount} im
                        </span>
                      </button>
                      {onOpenStudy && (
                        <button type="button" className="btn btn--remove tree__open-study" data-testid="open-study" onClick={() => onOpenStudy(s.id)} aria-label={`Open study ${s.description ?? ''} ${dicomDate(s.date)} with its hanging protocol`} title="Open the study laid out by its hanging protocol">
                          ▶
                        </button>
                      )}
                      <BrowserStudyBadge uid={s.studyInstanceUid} />
                      {hasPacs && (
                        <button
                          type="button"
                          className="btn btn--remove tree__send"
                          data-testid="send-to-pacs"
                          onClick={() => setSending({ studyId: s.id, title: `${g.name || g.patientId} · ${dicomDate(s.date) || 'no date'} ${s.description ?? ''}`.trim() })}
                          aria-label={`Send study ${s.description ?? ''} ${dicomDate(s.date)} to a PACS`}
                          title="Send this study to a PACS (STOW-RS or C-STORE)"
                        >
                          ⇪
                        </button>
                      )}
                      <button
                        type="button"
                        className={`btn btn--remove${confirming === `s${s.id}` ? ' btn--danger' : ''}`}
                        onClick={() => void remove({ studyId: s.id }, `s${s.id}`)}
                        onBlur={() => setConfirming(null)}
                        aria-label={`Remove study ${s.description ?? ''} ${dicomDate(s.date)} from the index`}
                        title="Remove from the index (files on disk are kept)"
                      >
                        {confirming === `s${s.id}` ? 'Remove?' : '×'}
                      </button>
                    </div>
                    {open && (
                      <ul className="tree__series">
                        {(series.get(s.id) ?? []).map((se) => (
                          <li key={se.id}>
                            <div
                              className={`series${openSeriesId === se.id ? ' series--open' : ''}`}
                              data-testid="series-row"
                              data-series-id={se.id}
                              role="button"
                              tabIndex={0}
                              draggable
                              onDragStart={(e) => {
                                e.dataTransfer.setData(SERIES_MIME, String(se.id));
                                e.dataTransfer.effectAllowed = 'copy';
                              }}
                              onClick={() => onOpenSeries(se.id)}
                              onPointerEnter={() => prefetchSeriesView(se.id)}
                              onKeyDown={(e) => {
                                if (e.key === 'Enter' || e.key === ' ') {
                                  e.preventDefault();
                                  e.stopPropagation();
                                  onOpenSeries(se.id);
                                }
                              }}
                              title={
                                se.modality === 'SR'
                                  ? 'Click to show its measurements on the images they were made on'
                                  : se.modality === 'KO'
                                    ? 'Click to open its key images'
                                    : 'Click to open in the active viewport, or drag into a viewport'
                              }
                            >
                              {se.modality === 'SR' || se.modality === 'KO' ? (
                                <span className="series__thumb series__thumb--document" aria-hidden="true">
                                  {se.modality === 'SR' ? '≡' : '★'}
                                </span>
                              ) : (
                                <img className="series__thumb" src={new URL(se.thumbnailUrl.replace(/^\//, ''), location.href).href} alt="" loading="lazy" draggable={false} />
                              )}
                              <span className="series__text">
                                <span className="series__title">
                                  {se.modality && <span className="badge">{se.modality}</span>} {se.number !== null ? `Se ${se.number}` : ''} {se.description ?? ''}
                                </span>
                                <span className="series__meta">
                                  {/* KO and SR series hold documents, not images (src/renderer/keyimages, src/renderer/measurements) */}
                                  {se.modality === 'KO' ? plural(se.instanceCount, 'key image document') : se.modality === 'SR' ? plural(se.instanceCount, 'structured report') : plural(se.instanceCount, 'image')}
                                  {se.frameCount > se.instanceCount ? ` · ${se.frameCount} frames` : ''}
                                  {se.bodyPart ? ` · ${se.bodyPart}` : ''}
                                </span>
                                <AlteredSeriesMark seriesId={se.id} studyUid={s.studyInstanceUid} />
                                {se.copies.map((c) => (
                                  <button
                                    key={c.source}
                                    type="button"
                                    className="series__copy"
                                    data-testid="series-pacs-copy"
                                    data-source={c.source}
                                    onClick={(e) => {
                                      e.stopPropagation();
                                      onOpenSeries(se.id, c.source);
                                    }}
                                    title={`${sourceName(c.source)} returned ${plural(c.instanceCount, 'image')} of this series with other bytes than the library's. Open the series as that PACS has it; each image's verification says what differs.`}
                                  >
                                    PACS copy · {sourceName(c.source)}: {c.instanceCount} differ{c.instanceCount === 1 ? 's' : ''}
                                  </button>
                                ))}
                              </span>
                              {hasPacs && (
                                <button
                                  type="button"
                                  className="btn btn--remove tree__send-series"
                                  data-testid="send-series-to-pacs"
                                  onClick={(e) => {
                                    e.stopPropagation();
                                    setSending({ studyId: s.id, seriesId: se.id, title: `${g.name || g.patientId} · Se ${se.number ?? ''} ${se.description ?? ''}`.trim() });
                                  }}
                                  aria-label={`Send series ${se.number ?? ''} to a PACS`}
                                  title="Send this series to a PACS"
                                >
                                  ⇪
                                </button>
                              )}
                              <button
                                type="button"
                                className={`btn btn--remove${confirming === `se${se.id}` ? ' btn--danger' : ''}`}
                                onClick={(e) => {
                                  e.stopPropagation();
                                  void remove({ seriesId: se.id }, `se${se.id}`);
                                }}
                                onBlur={() => setConfirming(null)}
                                aria-label={`Remove series ${se.number ?? ''} from the index`}
                                title="Remove from the index (files on disk are kept)"
                              >
                                {confirming === `se${se.id}` ? 'Remove?' : '×'}
                              </button>
                            </div>
                          </li>
                        ))}
                        {series.get(s.id)?.length === 0 && <li className="tree__none">No series</li>}
                      </ul>
                    )}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      )}
      {sending && <SendToPacsDialog studyId={sending.studyId} seriesId={sending.seriesId} title={sending.title} onClose={() => setSending(null)} />}
    </aside>
  );
});
