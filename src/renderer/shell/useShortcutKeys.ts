import { useEffect } from 'react';
import { actionForKey, keyOf, type ViewerAction } from '../../shared/viewer/shortcuts';

/**
 * The viewer's keyboard shortcuts, window-wide: each key of the shortcut table runs its action,
 * except while typing in a field (Escape still works) and Space/Enter on a focused button.
 * A slider (the stack scrollbar, a range input) is not a text field: after it was dragged it
 * keeps the focus, and its own key handling (arrows, PageUp/PageDown, Home/End move the slider
 * by its own steps, other keys ignored) must not replace the table's; preventDefault stops it.
 */
export function useShortcutKeys(perform: (a: ViewerAction) => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const key = keyOf(e);
      if (!key) return;
      const slider = t?.tagName === 'INPUT' && (t as HTMLInputElement).type === 'range';
      const typing = !!t && !slider && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
      if (typing && key !== 'Escape') return;
      const a = actionForKey(key);
      if (!a) return;
      if (t?.tagName === 'BUTTON' && (key === ' ' || key === 'Enter')) return;
      e.preventDefault();
      perform(a);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [perform]);
}
