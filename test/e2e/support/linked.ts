/** Helpers for the linked-viewing specs (reference lines, linked scrolling, priors, hanging protocols). */
import { expect, type Locator, type Page } from '@playwright/test';
import type { InstanceSummary, SeriesSummary, StudySummary } from '../../../src/shared/api';
import { invoke } from './viewer';

/** The library's series (with their study) whose first instance is the file given. */
export async function seriesOfFile(page: Page, file: string): Promise<{ series: SeriesSummary; study: StudySummary; instances: InstanceSummary[] }> {
  const { studies } = await invoke<{ studies: StudySummary[] }>(page, 'library.studies', {});
  for (const st of studies) {
    const { series } = await invoke<{ series: SeriesSummary[] }>(page, 'library.series', { studyId: st.id });
    for (const se of series) {
      const { instances } = await invoke<{ instances: InstanceSummary[] }>(page, 'library.instances', { seriesId: se.id });
      if (instances.some((i) => i.filePath === file)) return { series: se, study: st, instances };
    }
  }
  throw new Error(`no series holds ${file}`);
}

export interface LineAttrs {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  from: [number, number];
  to: [number, number];
  box: [number, number, number, number];
}

export async function lineOf(l: Locator): Promise<LineAttrs> {
  const a = await l.evaluate((el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>);
  const pair = (s: string) => s.split(',').map(Number) as [number, number];
  return { x1: +a.x1!, y1: +a.y1!, x2: +a.x2!, y2: +a.y2!, from: pair(a.from!), to: pair(a.to!), box: a.imageBox!.split(',').map(Number) as [number, number, number, number] };
}

/** Endpoints ordered by column then row, so a check does not depend on the line's direction. */
export function ordered(l: LineAttrs): { from: [number, number]; to: [number, number]; p1: [number, number]; p2: [number, number] } {
  const swap = l.from[0] > l.to[0] || (l.from[0] === l.to[0] && l.from[1] > l.to[1]);
  return swap ? { from: l.to, to: l.from, p1: [l.x2, l.y2], p2: [l.x1, l.y1] } : { from: l.from, to: l.to, p1: [l.x1, l.y1], p2: [l.x2, l.y2] };
}

/** Fails the spec on an uncaught page error at once (the rig also fails it at the end). */
export function failOnPageError(page: Page): void {
  page.on('pageerror', (e) => {
    throw new Error(`uncaught page error: ${e.message}`);
  });
}

export async function screenshotsAtBothSizes(page: Page, save: (name: string) => Promise<string>, name: string, check?: () => Promise<void>): Promise<void> {
  for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(size);
    if (check) await check();
    await save(`${name}-${size.width}x${size.height}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

export async function ready(l: Locator): Promise<void> {
  await expect(l).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
}
