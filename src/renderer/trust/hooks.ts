/** Data hooks of the trust UI: the open study, the trust panel (kept live by pushed events). */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { HistoryFilter, TrustPanel } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errorText } from '../errors';
import { openStudyOfSeries, type OpenStudy } from '../library/studyOfSeries';
import { verification } from '../verification/verification';
import { panelAfterFailure } from './afterFailure';

export type { OpenStudy };

/** The study (and series) of the series shown in the active viewport. */
export function useOpenStudy(seriesId: number | null): OpenStudy | null {
  const [open, setOpen] = useState<OpenStudy | null>(null);
  useEffect(() => {
    let alive = true;
    if (seriesId === null) {
      setOpen(null);
      return;
    }
    openStudyOfSeries(seriesId).then(
      (o) => alive && setOpen(o),
      () => alive && setOpen(null),
    );
    return () => {
      alive = false;
    };
  }, [seriesId]);
  return open;
}

export interface TrustState {
  panel: TrustPanel | null;
  loading: boolean;
  error: { message: string; hint: string | null } | null;
  /** ISO time the panel data arrived in this window. */
  loadedAt: string | null;
  refresh(): void;
}

/**
 * The trust panel of a study, verified now, refreshed when chain events are synced, an audit entry is
 * written, a share is sent or received, or the ledger connection changes (debounced).
 */
export function useTrustPanel(studyInstanceUid: string | null, filter?: HistoryFilter, enabled = true): TrustState {
  const [panel, setPanel] = useState<TrustPanel | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<TrustState['error']>(null);
  const [loadedAt, setLoadedAt] = useState<string | null>(null);
  const seq = useRef(0);
  const filterKey = JSON.stringify(filter ?? {});

  const load = useCallback(() => {
    if (!studyInstanceUid || !enabled) return;
    const mine = ++seq.current;
    setLoading(true);
    const f = JSON.parse(filterKey) as HistoryFilter;
    call('trust.panel', { studyInstanceUid, verify: true, ...(Object.keys(f).length ? { filter: f } : {}) }).then(
      (p) => {
        if (mine !== seq.current) return;
        setPanel(p);
        setError(null);
        setLoadedAt(new Date().toISOString());
        setLoading(false);
      },
      (e) => {
        if (mine !== seq.current) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
  }, [studyInstanceUid, filterKey, enabled]);

  useEffect(() => {
    setPanel((p) => (p && p.studyInstanceUid === studyInstanceUid ? p : null));
    load();
  }, [load, studyInstanceUid]);

  useEffect(() => {
    if (!studyInstanceUid || !enabled) return;
    let timer: number | undefined;
    let lastState: string | null = null;
    const off = bridge().on((e) => {
      if (e.type === 'ledger-status') {
        // Block numbers tick with every transaction: only a change of connection state is news here.
        const changed = lastState !== null && lastState !== e.status.state;
        lastState = e.status.state;
        if (!changed) return;
      }
      const relevant =
        (e.type === 'ledger-sync' && e.newEvents > 0) ||
        e.type === 'audit-appended' ||
        e.type === 'share' ||
        e.type === 'ledger-identity' ||
        (e.type === 'ledger-status' && e.status.state !== 'starting');
      if (!relevant) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 600);
    });
    return () => {
      window.clearTimeout(timer);
      off();
    };
  }, [load, studyInstanceUid, enabled]);

  // A failed chain read anywhere voids this panel's answers in the same render as the badges.
  const failedAt = useSyncExternalStore(verification.subscribe, () => verification.get().failedAt);
  const shown = useMemo(() => (panel ? panelAfterFailure(panel, loadedAt, failedAt) : null), [panel, loadedAt, failedAt]);
  return { panel: shown, loading, error, loadedAt, refresh: load };
}
