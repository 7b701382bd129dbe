import { useEffect, useMemo, useState } from 'react';
import type { PacsSendEvent, PacsSendPlan, PacsSendReport } from '../../shared/api';
import { bridge, call } from '../bridge';
import { ProgressBar, useTaskProgress } from '../shell/useTask';
import { pacsSettingsOpen, usePacsConnections } from './connections';
import { pacsProblem, ProblemBox, type PacsProblem } from './problems';
import './pacs.css';

type Via = 'stow-rs' | 'c-store';
const VIA_LABEL: Record<Via, string> = { 'stow-rs': 'DICOMweb STOW-RS', 'c-store': 'DICOM C-STORE' };

/** The method last used per connection (this workstation), so the dialog offers it again. */
const viaKey = (connectionId: number) => `medimg.pacs.sendVia.${connectionId}`;

interface Row {
  index: number;
  sopInstanceUid: string | null;
  ok: boolean;
  message: string;
}

/**
 * "Send to PACS" for a study (or one series) of the local library: choose the connection and the
 * method it offers (STOW-RS / C-STORE), then a progress bar with a result per image (stored, or the
 * failure in DICOM terms) and Cancel. It says which store the study's anchor records and whether
 * that is the PACS chosen, and can make that PACS the store new anchors record.
 */
export function SendToPacsDialog({ studyId, seriesId, title, onClose }: { studyId: number; seriesId?: number; title: string; onClose(): void }) {
  const connections = usePacsConnections();
  const [plan, setPlan] = useState<PacsSendPlan | null>(null);
  const [connectionId, setConnectionId] = useState<number | null>(null);
  const [via, setVia] = useState<Via | null>(null);
  const [running, setRunning] = useState(false);
  const [rows, setRows] = useState<Row[]>([]);
  const [report, setReport] = useState<PacsSendReport | null>(null);
  const [problem, setProblem] = useState<PacsProblem | null>(null);
  const [storeNote, setStoreNote] = useState<string | null>(null);
  const { progress, cancel } = useTaskProgress('pacs-send', running);

  useEffect(() => {
    let alive = true;
    call('pacs.sendPlan', { studyId, ...(seriesId ? { seriesId } : {}) }).then(
      (p) => alive && setPlan(p),
      (e) => alive && setProblem(pacsProblem(e)),
    );
    return () => {
      alive = false;
    };
  }, [studyId, seriesId]);

  // Preselect the PACS the anchor's record names; else the first connection. As an update of the
  // current value: a PACS the user picked just as the plan arrived (its change handled before this
  // effect ran) is kept, not replaced by the preselection (seen as a flaky pacs-send spec).
  useEffect(() => {
    if (connectionId !== null || !connections?.length || !plan) return;
    const named = plan.anchor?.connectionId ?? null;
    setConnectionId((picked) => picked ?? (connections.some((c) => c.id === named) ? named : connections[0]!.id));
  }, [connections, plan, connectionId]);

  const conn = connections?.find((c) => c.id === connectionId) ?? null;
  const offered = useMemo<Via[]>(() => (conn ? [...(conn.dicomweb ? (['stow-rs'] as const) : []), ...(conn.dimse ? (['c-store'] as const) : [])] : []), [conn]);
  useEffect(() => {
    if (!conn) return;
    const saved = localStorage.getItem(viaKey(conn.id)) as Via | null;
    setVia(saved && offered.includes(saved) ? saved : (offered[0] ?? null));
  }, [conn, offered]);

  // Each instance's result as it comes (the task's own events).
  useEffect(() => {
    if (!running) return;
    let task: string | null = null;
    return bridge().on((e) => {
      if (e.type !== 'pacs-send') return;
      const ev = e as PacsSendEvent;
      if (task && ev.taskId !== task) return;
      task = ev.taskId;
      setRows((r) => [...r, { index: ev.index, sopInstanceUid: ev.sopInstanceUid, ok: ev.ok, message: ev.message }]);
    });
  }, [running]);

  async function send() {
    if (connectionId === null || !via) return;
    localStorage.setItem(viaKey(connectionId), via);
    setRows([]);
    setReport(null);
    setProblem(null);
    setRunning(true);
    try {
      const r = await call('pacs.send', { connectionId, studyId, ...(seriesId ? { seriesId } : {}), via });
      setReport(r);
      // the full list (events may have been missed while the dialog rendered)
      setRows(r.results.map((x, index) => ({ index, ...x })));
      if (r.error) setProblem(pacsProblem(r.error));
    } catch (e) {
      setProblem(pacsProblem(e));
    } finally {
      setRunning(false);
    }
  }

  async function recordStore() {
    if (connectionId === null) return;
    try {
      const r = await call('pacs.anchorStore.set', { connectionId });
      setPlan((p) => p && { ...p, newAnchorStore: r.storageUri });
      setStoreNote(`New anchors will record ${r.storageUri}.`);
    } catch (e) {
      setProblem(pacsProblem(e));
    }
  }

  const anchor = plan?.anchor ?? null;
  const thisStore = connectionId !== null ? (plan?.storeOf[String(connectionId)] ?? null) : null;
  const anchorHere = anchor !== null && anchor.connectionId !== null && anchor.connectionId === connectionId;
  const failed = rows.filter((r) => !r.ok);
  const sorted = [...rows].sort((a, b) => Number(a.ok) - Number(b.ok) || a.index - b.index);

  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Send to PACS" data-testid="pacs-send">
      <div className="modal__card pacs-send">
        <header className="modal__head">
          <h2>Send to PACS</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close" disabled={running}>
            ✕
          </button>
        </header>
        <p className="pacs-send__what" data-testid="pacs-send-what">
          {title}
          {plan ? ` · ${plan.instances} image${plan.instances === 1 ? '' : 's'}` : ''}
        </p>

        {connections?.length === 0 ? (
          <div className="pacs-send__none">
            <p>No PACS connection yet.</p>
            <button type="button" className="btn btn--primary" onClick={() => pacsSettingsOpen.set(true)}>
              Add a PACS…
            </button>
          </div>
        ) : (
          <div className="pacs-send__form">
            <label>
              PACS
              <select aria-label="PACS" value={connectionId ?? ''} disabled={running} onChange={(e) => setConnectionId(Number(e.target.value))}>
                {connections?.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
            <fieldset className="pacs-send__via" disabled={running}>
              <legend>Method</legend>
              {(['stow-rs', 'c-store'] as Via[]).map((v) => (
                <label key={v} title={offered.includes(v) ? undefined : v === 'stow-rs' ? 'This connection has no DICOMweb URL' : 'This connection has no DIMSE settings (AE title, host, port)'}>
                  <input type="radio" name="pacs-send-via" value={v} checked={via === v} disabled={!offered.includes(v)} onChange={() => setVia(v)} />
                  {VIA_LABEL[v]}
                </label>
              ))}
            </fieldset>
          </div>
        )}

        {plan && (
          <div className={`pacs-send__anchor${anchor && !anchorHere ? ' pacs-send__anchor--other' : ''}`} data-testid="pacs-send-anchor" data-names-this-pacs={anchorHere}>
            {!anchor ? (
              <>
                This study is not anchored on the ledger yet: its copy on the PACS can be checked only after it is anchored.
                {thisStore && plan.newAnchorStore !== thisStore && (
                  <div>
                    <button type="button" className="btn btn--link" onClick={() => void recordStore()} disabled={running}>
                      Record {conn?.name ?? 'this PACS'} as the store of new anchors
                    </button>
                  </div>
                )}
                {thisStore && plan.newAnchorStore === thisStore && !storeNote && <div>Its anchor will name {conn?.name ?? 'this PACS'} as the store.</div>}
              </>
            ) : anchorHere ? (
              <>
                Anchored ({anchor.delivery === 'confirmed' ? 'on the ledger' : 'waiting for the ledger'}); its record names this PACS as the store: <code>{anchor.storageUri}</code>
              </>
            ) : (
              <>
                Anchored; its record names another store: <code>{anchor.storageUri}</code>. Others who open the record look there, not in {conn?.name ?? 'this PACS'}.
                {thisStore && plan.newAnchorStore !== thisStore && (
                  <div>
                    <button type="button" className="btn btn--link" onClick={() => void recordStore()} disabled={running}>
                      Record {conn?.name ?? 'this PACS'} as the store of new anchors
                    </button>
                  </div>
                )}
                {thisStore && plan.newAnchorStore === thisStore && <div>New anchors (a new version of this study's record) name {conn?.name ?? 'this PACS'}.</div>}
              </>
            )}
            {storeNote && <div data-testid="pacs-send-store-note">{storeNote}</div>}
          </div>
        )}

        {(running || report) && (
          <div className="pacs-send__progress" data-testid="pacs-send-progress" data-running={running}>
            {running && (
              <div className="pacs-retrieval__progress">
                <ProgressBar progress={progress} label="Sending to the PACS" />
                <button type="button" className="btn btn--small" onClick={cancel} disabled={!progress}>
                  Cancel
                </button>
              </div>
            )}
            {report && (
              <div className="pacs-send__report" data-testid="pacs-send-report" data-failed={report.failed}>
                {report.cancelled ? 'Cancelled: ' : ''}
                {report.sent} of {report.results.length} images stored on {report.connection} by {VIA_LABEL[report.via]}
                {report.failed ? ` · ${report.failed} not stored` : ''} · {report.seconds.toFixed(1)} s
              </div>
            )}
            {rows.length > 0 && (
              <ol className="pacs-send__results" data-testid="pacs-send-results" aria-label="Result per image">
                {sorted.slice(0, 500).map((r) => (
                  <li key={r.index} data-testid="pacs-send-result" data-ok={r.ok} data-sop={r.sopInstanceUid ?? ''} className={r.ok ? '' : 'pacs-send__failed'}>
                    <span className="pacs-send__mark" aria-hidden="true">
                      {r.ok ? '✓' : '✕'}
                    </span>
                    <span className="pacs-send__sop" title={r.sopInstanceUid ?? ''}>
                      {/* UIDs of one study share their root: the tail tells the images apart */}
                      {r.sopInstanceUid ? (r.sopInstanceUid.length > 28 ? `…${r.sopInstanceUid.slice(-27)}` : r.sopInstanceUid) : 'unreadable file'}
                    </span>
                    <span className="pacs-send__msg">{r.message}</span>
                  </li>
                ))}
              </ol>
            )}
            {!running && failed.length > 0 && <p className="pacs-send__hint">The images not stored can be sent again; images the PACS already holds are stored once.</p>}
          </div>
        )}
        {problem && <ProblemBox problem={problem} testId="pacs-send-error" onDismiss={() => setProblem(null)} />}

        <div className="modal__actions">
          <button type="button" className="btn" onClick={onClose} disabled={running}>
            {report ? 'Close' : 'Cancel'}
          </button>
          <button type="button" className="btn btn--primary" onClick={() => void send()} disabled={running || !plan || plan.instances === 0 || connectionId === null || !via}>
            {running ? 'Sending…' : report ? 'Send again' : 'Send'}
          </button>
        </div>
      </div>
    </div>
  );
}
