/**
 * Settings → Hanging protocols: the rules that choose the first screen of a study opened with "Open study"
 * (modality, body part, number of image series → layout, series and window per viewport), in priority order
 * (the first that applies wins). Saved in the app's database; "Built-in" brings the defaults back.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { HangingProtocolDto } from '../../shared/api';
import { CT_PRESETS } from '../../shared/viewer/presets';
import { BridgeError, call } from '../bridge';
import { appliedProtocol } from './useHanging';
import './hanging.css';

type Err = { message: string; hint?: string } | null;
const errOf = (e: unknown): Err => (e instanceof BridgeError ? { message: e.error.message, hint: e.error.hint } : { message: String(e) });
const LAYOUTS: { value: HangingProtocolDto['layout']; label: string }[] = [
  { value: '1x1', label: '1×1' },
  { value: '1x2', label: '1×2' },
  { value: '2x2', label: '2×2' },
  { value: 'fit', label: 'Fit the series (up to 2×2)' },
];

export function HangingProtocolsStatusButton() {
  const [open, setOpen] = useState(false);
  const applied = useSyncExternalStore(appliedProtocol.subscribe, appliedProtocol.get);
  return (
    <>
      <button
        type="button"
        className="hp-status"
        data-testid="hanging-settings-open"
        data-applied={applied ? (applied.name ?? '') : undefined}
        title={`${applied ? `The study last opened follows: ${applied.name ?? 'no protocol applies (first series, 1×1)'}. ` : ''}Settings: how a study's first screen is laid out`}
        onClick={() => setOpen(true)}
      >
        {applied ? `Hanging: ${applied.name ?? 'none applies'}` : 'Hanging protocols'}
      </button>
      {open && <HangingProtocolsSettings onClose={() => setOpen(false)} />}
    </>
  );
}

export function HangingProtocolsSettings({ onClose }: { onClose(): void }) {
  const [list, setList] = useState<HangingProtocolDto[] | null>(null);
  const [source, setSource] = useState<'built-in' | 'saved'>('built-in');
  const [error, setError] = useState<Err>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call('hanging.list', {}).then(
      (r) => {
        setList(r.protocols);
        setSource(r.source);
      },
      (e) => setError(errOf(e)),
    );
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const edit = (i: number, change: Partial<HangingProtocolDto>) => setList((l) => l && l.map((p, k) => (k === i ? { ...p, ...change } : p)));
  const move = (i: number, d: -1 | 1) =>
    setList((l) => {
      if (!l || i + d < 0 || i + d >= l.length) return l;
      const n = [...l];
      [n[i], n[i + d]] = [n[i + d]!, n[i]!];
      return n;
    });
  const run = async (what: 'save' | 'reset') => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = what === 'save' ? await call('hanging.save', { protocols: list ?? [] }) : await call('hanging.reset', {});
      setList(r.protocols);
      setSource(r.source);
      setDone(what === 'save' ? `Saved ${r.protocols.length} protocol(s). Studies opened from now on follow them.` : 'The built-in protocols apply again.');
    } catch (e) {
      setError(errOf(e));
    } finally {
      setBusy(false);
    }
  };
  const num = (v: string) => (v.trim() === '' ? null : Math.max(1, Math.floor(Number(v)) || 1));

  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Hanging protocols" data-testid="hanging-settings">
      <div className="modal__card hp__card">
        <header className="modal__head">
          <h2>Hanging protocols</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <p className="modal__note">
          "Open study" (▶ beside a study in the browser) lays the study out by the first protocol that applies. Series are counted in series-number order (image series only).{' '}
          {source === 'built-in' ? 'These are the built-in protocols; edit and save to make them yours.' : 'Your saved protocols.'}
        </p>
        {!list && !error && <p className="modal__note">Loading…</p>}
        <ol className="hp__list">
          {list?.map((p, i) => (
            <li key={p.id} className="hp__item" data-testid="hanging-protocol" data-id={p.id}>
              <div className="hp__row">
                <input className="hp__name" aria-label="Protocol name" value={p.name} onChange={(e) => edit(i, { name: e.target.value })} />
                <button type="button" className="btn" aria-label={`Move ${p.name} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button type="button" className="btn" aria-label={`Move ${p.name} down`} disabled={i === list.length - 1} onClick={() => move(i, 1)}>
                  ↓
                </button>
                <button type="button" className="btn" aria-label={`Delete ${p.name}`} onClick={() => setList((l) => l && l.filter((_, k) => k !== i))}>
                  ✕
                </button>
              </div>
              <div className="hp__row hp__when">
                <label>
                  Modalities
                  <input aria-label="Modalities" value={p.modalities.join(', ')} onChange={(e) => edit(i, { modalities: e.target.value.split(/[,\s]+/).filter(Boolean) })} />
                </label>
                <label>
                  Body part
                  <input aria-label="Body part" placeholder="any" value={p.bodyPart} onChange={(e) => edit(i, { bodyPart: e.target.value })} />
                </label>
                <label>
                  Series ≥
                  <input aria-label="At least series" type="number" min={1} value={p.minSeries ?? ''} onChange={(e) => edit(i, { minSeries: num(e.target.value) })} />
                </label>
                <label>
                  ≤
                  <input aria-label="At most series" type="number" min={1} value={p.maxSeries ?? ''} onChange={(e) => edit(i, { maxSeries: num(e.target.value) })} />
                </label>
              </div>
              <div className="hp__row hp__then">
                <label>
                  Layout
                  <select aria-label="Layout" value={p.layout} onChange={(e) => edit(i, { layout: e.target.value as HangingProtocolDto['layout'] })}>
                    {LAYOUTS.map((l) => (
                      <option key={l.value} value={l.value}>
                        {l.label}
                      </option>
                    ))}
                  </select>
                </label>
                {p.cells.map((c, k) => (
                  <span className="hp__cell" key={k} data-testid="hanging-cell">
                    <span className="hp__cell-n">Viewport {k + 1}:</span>
                    <label>
                      series
                      <input aria-label={`Viewport ${k + 1} series`} type="number" min={1} value={c.series} onChange={(e) => edit(i, { cells: p.cells.map((x, j) => (j === k ? { ...x, series: num(e.target.value) ?? 1 } : x)) })} />
                    </label>
                    <select aria-label={`Viewport ${k + 1} window`} value={c.window ?? ''} onChange={(e) => edit(i, { cells: p.cells.map((x, j) => (j === k ? { ...x, window: e.target.value || null } : x)) })}>
                      <option value="">own window</option>
                      {CT_PRESETS.map((w) => (
                        <option key={w.id} value={w.id}>
                          {w.label} {w.center}/{w.width}
                        </option>
                      ))}
                    </select>
                    <button type="button" className="btn btn--ghost" aria-label={`Remove viewport ${k + 1}`} onClick={() => edit(i, { cells: p.cells.filter((_, j) => j !== k) })}>
                      ✕
                    </button>
                  </span>
                ))}
                {p.cells.length < 4 && (
                  <button type="button" className="btn" aria-label={`Add a viewport to ${p.name}`} onClick={() => edit(i, { cells: [...p.cells, { series: p.cells.length + 1, window: null }] })}>
                    + viewport
                  </button>
                )}
              </div>
            </li>
          ))}
        </ol>
        {error && (
          <p className="hp__error" role="alert" data-testid="hanging-error">
            {error.message} {error.hint}
          </p>
        )}
        {done && (
          <p className="hp__done" role="status" data-testid="hanging-saved">
            {done}
          </p>
        )}
        <div className="modal__actions">
          <button
            type="button"
            className="btn"
            onClick={() => setList((l) => [...(l ?? []), { id: `p${Date.now().toString(36)}`, name: 'New protocol', modalities: ['CT'], bodyPart: '', minSeries: null, maxSeries: null, layout: '1x1', cells: [{ series: 1, window: null }] }])}
          >
            Add protocol
          </button>
          <button type="button" className="btn" disabled={busy} onClick={() => void run('reset')} title="Forget your list: the built-in protocols apply">
            Built-in
          </button>
          <button type="button" className="btn btn--primary" data-testid="hanging-save" disabled={busy || !list} onClick={() => void run('save')}>
            Save
          </button>
        </div>
      </div>
    </div>
  );
}
