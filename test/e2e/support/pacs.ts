/** Helpers for the PACS specs: a real Orthanc (started per spec), files sent with dcmtk's storescu, the UI's PACS settings and browser. */
import { expect, type Page } from '@playwright/test';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer, type StartOptions } from '../../support/orthanc';

export { PYDICOM } from './viewer';

/** Orthanc and dcmtk present (else the spec skips; under CI a missing one fails inside component()/dcmtk()). */
export function havePacsTools(): boolean {
  return Boolean(component('orthanc')) && Boolean(dcmtk());
}

export async function orthancWith(files: string[], opts: StartOptions = {}): Promise<OrthancServer> {
  const o = await startOrthanc(opts);
  if (files.length) {
    const r = await storescu(files, { port: o.dicomPort, calledAet: o.aet });
    expect(r.code, r.stderr).toBe(0);
  }
  return o;
}

/** Opens Settings → PACS from the status bar. */
export async function openPacsSettings(page: Page) {
  await page.getByTestId('pacs-status').click();
  const dialog = page.getByTestId('pacs-settings');
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Adds a DICOMweb connection (no sign-in) through the settings dialog and closes it. */
export async function addWebConnection(page: Page, name: string, url: string): Promise<void> {
  const dialog = await openPacsSettings(page);
  await dialog.getByRole('button', { name: 'Add a PACS…' }).click();
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Base URL').fill(url);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog.getByTestId('pacs-connection').filter({ hasText: name })).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).last().click();
  await expect(dialog).toBeHidden();
}

/** Switches the study browser to a PACS (by connection name). */
export async function browsePacs(page: Page, name: string): Promise<void> {
  await page.getByTestId('study-source').selectOption({ label: `PACS: ${name}` });
  await expect(page.getByTestId('pacs-browser')).toBeVisible();
}

/** Searches with the given fields (date "any" unless given) and waits for the answer. */
export async function pacsSearch(page: Page, q: { name?: string; id?: string; date?: 'today' | 'week' | 'any'; modality?: string }): Promise<void> {
  const form = page.getByRole('form', { name: 'Search the PACS' });
  await form.getByLabel('Patient name').fill(q.name ?? '');
  await form.getByLabel('Patient ID').fill(q.id ?? '');
  await form.getByLabel('Study date').selectOption(q.date ?? 'any');
  await form.getByLabel('Modality').selectOption(q.modality ?? '');
  await form.getByRole('button', { name: 'Search' }).click();
  await expect(form.getByRole('button', { name: 'Search' })).toBeEnabled();
}

/** Takes the named screenshot at 1920×1080 and 1280×720, then goes back to the rig's size. */
export async function screenshotsAtTwoSizes(page: Page, shot: (name: string) => Promise<string>, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const [w, h] of [
    [1920, 1080],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    out.push(await shot(`${name}-${w}x${h}`));
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  return out;
}

/**
 * Records, in the page, every text the retrieve's progress showed, the viewport's (state, count)
 * over time and the PACS events, so a spec can assert what was on screen however fast it went.
 */
export async function recordRetrieve(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    const rec = { progress: [] as string[], viewport: [] as string[], during: [] as string[], badges: [] as string[], events: [] as { type: string; seriesId?: number; t: number }[] };
    w.__pacsRec = rec;
    const look = () => {
      const p = document.querySelector('[data-testid=pacs-retrieval] [data-testid=task-progress]') as HTMLElement | null;
      if (p && rec.progress[rec.progress.length - 1] !== p.innerText) rec.progress.push(p.innerText);
      const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement | null;
      const v = vp ? `${vp.dataset.state}:${vp.dataset.count}` : '';
      if (v && rec.viewport[rec.viewport.length - 1] !== v) rec.viewport.push(v);
      // while the retrieve runs: what the viewport showed (state:count:position)
      const box = document.querySelector('[data-testid=pacs-retrieval]') as HTMLElement | null;
      if (vp && box?.dataset.running === 'true') {
        const d = `${vp.dataset.state}:${vp.dataset.count}:${vp.dataset.position}`;
        if (rec.during[rec.during.length - 1] !== d) rec.during.push(d);
      }
      for (const id of ['image-verification', 'viewer-study-verification', 'study-verification']) {
        for (const b of document.querySelectorAll(`[data-testid=${id}]`)) {
          const st = `${id}:${(b as HTMLElement).dataset.state ?? ''}`;
          if (!rec.badges.includes(st)) rec.badges.push(st);
        }
      }
    };
    new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    let real = w.medimg as { invoke(c: string, r: unknown): Promise<unknown>; on(l: (e: unknown) => void): () => void } | undefined;
    let hooked = false;
    Object.defineProperty(window, 'medimg', {
      configurable: true,
      get() {
        if (real && !hooked) {
          hooked = true;
          real.on((e) => {
            const ev = e as { type: string; seriesId?: number };
            if (ev.type === 'pacs-retrieve') rec.events.push({ type: ev.type, seriesId: ev.seriesId, t: performance.now() });
          });
        }
        return real;
      },
      set(v) {
        real = v;
      },
    });
  });
}

export interface RetrieveRecord {
  progress: string[];
  viewport: string[];
  /** "state:count:position" of viewport 0 each time it changed while the retrieve was running */
  during: string[];
  /** every "<badge test id>:<state>" seen */
  badges: string[];
  events: { type: string; seriesId?: number; t: number }[];
}
export async function retrieveRecord(page: Page): Promise<RetrieveRecord> {
  return page.evaluate(() => (window as unknown as { __pacsRec: RetrieveRecord }).__pacsRec);
}
