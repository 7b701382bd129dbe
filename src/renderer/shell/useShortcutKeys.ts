import { useEffect } from 'react';
import { actionForKey, keyOf, type ViewerAction } from '../../shared/viewer/shortcuts';

/**
 * The viewer's keyboard shortcuts, window-wide: each key of the shortcut table runs its action,
 * except while typing in a field (Escape still works) and Space/Enter on a focused button.
 */
export function useShortcutKeys(perform: (a: ViewerAction) => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const key = keyOf(e);
      if (!key) return;
      const typing = !!t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
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
