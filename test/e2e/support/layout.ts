/** Helpers for the layout specs: element boxes from getBoundingClientRect, overlaps, computed styles. */
import type { Locator } from '@playwright/test';

/** var(--bad), the integrity red, as getComputedStyle writes it. */
export const RED = 'rgb(208, 84, 84)';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  /** What the element says (to name it in a failure). */
  text: string;
  /** The element's text is cut off: wider than its box and no tooltip (its own or an ancestor's) with the whole text. */
  clipped: boolean;
}

/** The visible, non-empty elements matching `selector` inside `scope`, with the boxes of their content (text). */
export async function boxes(scope: Locator, selector: string): Promise<Box[]> {
  return scope.evaluate((root, sel) => {
    const out: Box[] = [];
    for (const el of Array.from(root.querySelectorAll<HTMLElement>(sel))) {
      // The box of the text itself (a block's box is as wide as its container, its text may be much shorter).
      const range = document.createRange();
      range.selectNodeContents(el);
      const r = range.getBoundingClientRect();
      const text = (el.textContent ?? '').trim();
      if (!text || r.width === 0 || r.height === 0) continue;
      const clipped = (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) && !el.closest('[title]');
      out.push({ x: r.x, y: r.y, width: r.width, height: r.height, text, clipped });
    }
    return out;
  }, selector);
}

/** True when two boxes share some area (touching edges do not count). */
export function intersects(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  const eps = 0.5;
  return a.x + a.width - eps > b.x && b.x + b.width - eps > a.x && a.y + a.height - eps > b.y && b.y + b.height - eps > a.y;
}

/** A computed style property of the first element of a locator. */
export async function css(l: Locator, prop: string): Promise<string> {
  return l.first().evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), prop);
}
