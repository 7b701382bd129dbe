import { useEffect, useMemo, useState } from 'react';
import type { TagNode } from '../../shared/api';
import { call } from '../bridge';
import { errText } from '../errors';

interface Props {
  instanceId: string | null;
  onClose(): void;
}

function matches(n: TagNode, q: string): boolean {
  if (!q) return true;
  if (n.tag.toLowerCase().includes(q) || n.name.toLowerCase().includes(q) || n.value.toLowerCase().includes(q) || n.tag.replace(/[(),]/g, '').toLowerCase().includes(q)) return true;
  return (n.items ?? []).some((item) => item.some((c) => matches(c, q)));
}

/** Writes text to the clipboard: the async API, else the selection fallback (Electron denies the permission). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

function CopyButton({ n }: { n: TagNode }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 1500);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className={`tags__copy tags__copy--${state}`}
      data-testid="tag-copy"
      data-copied={state}
      aria-label={`Copy value of ${n.name || n.tag}`}
      title={state === 'failed' ? 'Could not copy: select the value instead' : 'Copy the value'}
      onClick={() => void copyText(n.value).then((ok) => setState(ok ? 'copied' : 'failed'))}
    >
      {state === 'copied' ? 'copied' : state === 'failed' ? 'failed' : 'copy'}
    </button>
  );
}

function Node({ n, q, depth }: { n: TagNode; q: string; depth: number }) {
  const [open, setOpen] = useState(false);
  const childMatch = !!q && (n.items ?? []).some((item) => item.some((c) => matches(c, q)));
  const expanded = open || childMatch;
  if (!matches(n, q)) return null;
  const name = n.name || 'private / unknown';
  return (
    <>
      <tr className="tags__row" data-testid="tag-row" data-tag={n.tag} style={{ ['--depth' as string]: depth }}>
        <td className="tags__tag">
          {n.items ? (
            <button type="button" className="tags__toggle" aria-expanded={expanded} onClick={() => setOpen((o) => !o)} aria-label={`${expanded ? 'Collapse' : 'Expand'} ${n.name || n.tag}`}>
              {expanded ? '▾' : '▸'}
            </button>
          ) : null}
          {n.tag}
        </td>
        <td className="tags__vr">{n.vr}</td>
        <td className="tags__name" title={name}>
          {n.name || <span className="dim">private / unknown</span>}
        </td>
        <td className="tags__value" title={n.items ? undefined : n.value}>
          <span className="tags__text" data-testid="tag-value">
            {n.items ? `${n.items.length} item${n.items.length === 1 ? '' : 's'}` : n.value}
          </span>
          {!n.items && n.value !== '' && <CopyButton n={n} />}
        </td>
      </tr>
      {expanded &&
        n.items?.map((item, i) => (
          <ItemRows key={i} item={item} index={i} q={q} depth={depth + 1} />
        ))}
    </>
  );
}

function ItemRows({ item, index, q, depth }: { item: TagNode[]; index: number; q: string; depth: number }) {
  return (
    <>
      <tr className="tags__item" style={{ ['--depth' as string]: depth }}>
        <td colSpan={4}>
          Item {index + 1}
        </td>
      </tr>
      {item.map((c, j) => (
        <Node key={`${c.tag}-${j}`} n={c} q={q} depth={depth + 1} />
      ))}
    </>
  );
}

/** The DICOM tags of the current instance: searchable, sequences expandable. */
export function TagInspector({ instanceId, onClose }: Props) {
  const [data, setData] = useState<{ meta: TagNode[]; dataset: TagNode[]; ts: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    setData(null);
    setError(null);
    if (!instanceId) return;
    let alive = true;
    call('library.tags', { instanceId: Number(instanceId) }).then(
      (r) => alive && setData({ meta: r.meta, dataset: r.dataset, ts: r.transferSyntaxUid }),
      (e) => alive && setError(errText(e)),
    );
    return () => {
      alive = false;
    };
  }, [instanceId]);
  const q = query.trim().toLowerCase();
  const count = useMemo(() => (data ? [...data.meta, ...data.dataset].filter((n) => matches(n, q)).length : 0), [data, q]);
  return (
    <aside className="side side--tags" aria-label="DICOM tags" data-testid="tag-inspector">
      <header className="side__head">
        <h2>DICOM tags</h2>
        <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close tags">
          ×
        </button>
      </header>
      <div className="side__search">
        <input type="search" placeholder="Search tag, keyword or value…" aria-label="Search tags" value={query} onChange={(e) => setQuery(e.target.value)} />
        {data && <span className="side__count">{count} shown</span>}
      </div>
      <div className="side__scroll tags-scroll">
        {!instanceId && <p className="side__none">Open an image to see its tags.</p>}
        {error && <p className="side__error" role="alert">{error}</p>}
        {instanceId && !data && !error && <p className="side__none">Reading…</p>}
        {data && (
          <table className="tags">
            <colgroup>
              <col className="tags__col-tag" />
              <col className="tags__col-vr" />
              <col className="tags__col-name" />
              <col />
            </colgroup>
            <tbody>
              {data.meta.length > 0 && (
                <tr className="tags__section">
                  <td colSpan={4}>File meta information</td>
                </tr>
              )}
              {data.meta.map((n, i) => (
                <Node key={`m${n.tag}-${i}`} n={n} q={q} depth={0} />
              ))}
              <tr className="tags__section">
                <td colSpan={4}>Data set</td>
              </tr>
              {data.dataset.map((n, i) => (
                <Node key={`d${n.tag}-${i}`} n={n} q={q} depth={0} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </aside>
  );
}
