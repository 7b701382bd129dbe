import { SHORTCUTS, type Shortcut } from '../../shared/viewer/shortcuts';

const KEY_LABEL: Record<string, string> = { ArrowDown: '↓', ArrowUp: '↑', ArrowLeft: '←', ArrowRight: '→', PageUp: 'PgUp', PageDown: 'PgDn', Escape: 'Esc', Delete: 'Del' };

export function HelpOverlay({ onClose }: { onClose(): void }) {
  const groups = new Map<string, Shortcut[]>();
  for (const s of SHORTCUTS) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="help-overlay" onClick={onClose}>
      <div className="modal__body" onClick={(e) => e.stopPropagation()}>
        <header className="modal__head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <div className="help">
          {[...groups].map(([group, list]) => (
            <section key={group} className="help__group">
              <h3>{group}</h3>
              <dl>
                {list.map((s) => (
                  <div key={s.label} className="help__row">
                    <dt>
                      {s.keys.map((k) => (
                        <kbd key={k}>{KEY_LABEL[k] ?? (k.length === 1 ? k.toUpperCase() : k)}</kbd>
                      ))}
                    </dt>
                    <dd>{s.label}</dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
          <section className="help__group">
            <h3>Mouse</h3>
            <dl>
              <div className="help__row"><dt><kbd>Left</kbd></dt><dd>Active tool</dd></div>
              <div className="help__row"><dt><kbd>Middle</kbd></dt><dd>Pan</dd></div>
              <div className="help__row"><dt><kbd>Right</kbd></dt><dd>Zoom</dd></div>
              <div className="help__row"><dt><kbd>Wheel</kbd></dt><dd>Scroll through the stack</dd></div>
            </dl>
          </section>
        </div>
      </div>
    </div>
  );
}
