/**
 * Damaged files in the viewer: the fuzz harness's cases (test/fuzz: its mutators on pydicom's test set and generated
 * slices) that the import accepts go on to the renderer's decode worker in Chromium. Each one either renders or says
 * in its viewport, in DICOM terms, why it cannot — no uncaught error in the page (the rig fails the spec on one), no
 * viewport left loading, and the page still answers after it.
 * A long run: FUZZ_RENDERER_CASES=2000 FUZZ_RENDERER_SEED=7 npx playwright test -c test/e2e/playwright.config.ts decode-fuzz
 * (its result is in docs/conformance.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from '../fuzz/corpus';
import { makeCase, prepareMutators } from '../fuzz/mutators';
import { caseSeed, rng } from '../fuzz/prng';
import { leaksInternals } from '../fuzz/targets';
import { tempDir } from '../support/tmp';
import { test, expect } from './rig';
import { importPaths, invoke, libraryInstances, showInstance, viewport } from './support/viewer';

const CASES = Number(process.env.FUZZ_RENDERER_CASES ?? 200);
const SEED = Number(process.env.FUZZ_RENDERER_SEED ?? 20261129);
const tmp = tempDir('medimg-decode-fuzz-');
test.afterAll(() => tmp.cleanup());

test('damaged files that import: each renders or says why in its viewport; the page never throws or freezes', async ({ app }) => {
  test.setTimeout(Math.max(300_000, CASES * 3_000));
  const { page } = app;
  const seeds = await loadCorpus();
  prepareMutators();
  // In rounds of 40: a damaged copy often keeps its seed's SOP Instance UID, and the library holds one instance per
  // UID, so each round is viewed and then removed from the index before the next is imported.
  const ROUND = 40;
  const vp = viewport(page);
  const tally = { imported: 0, rendered: 0, message: 0 };
  const failures: string[] = [];
  await app.open();
  for (let first = 0; first < CASES; first += ROUND) {
    const roundDir = join(tmp.path, `round-${first}`);
    const byPath = new Map<string, { index: number; mutator: string; seed: string; detail: string }>();
    for (let index = first; index < Math.min(CASES, first + ROUND); index++) {
      const c = makeCase(seeds, rng(caseSeed(SEED, index)));
      const dir = join(roundDir, String(index));
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `case-${index}.dcm`);
      writeFileSync(path, c.bytes);
      byPath.set(path, { index, mutator: c.mutator, seed: c.seed, detail: c.detail });
    }
    const report = await importPaths(page, [roundDir]);
    tally.imported += report.added;
    const shown = (await libraryInstances(page)).filter((i) => i.hasPixels && byPath.has(i.filePath));
    for (const inst of shown) {
      const c = byPath.get(inst.filePath)!;
      const what = `case ${c.index} [${c.mutator} on ${c.seed}: ${c.detail}]`;
      let state: 'shown' | 'error';
      try {
        state = await showInstance(page, inst, 0, 60_000);
      } catch (err) {
        failures.push(`${what}: the viewport neither showed the image nor said why (${String(err).split('\n')[0]})`);
        continue;
      }
      if (state === 'error') {
        const msg = (await vp.getByTestId('viewport-error').textContent()) ?? '';
        const leak = leaksInternals(msg);
        if (!/Cannot display this image.{10,}/.test(msg)) failures.push(`${what}: an unclear message "${msg}"`);
        else if (leak) failures.push(`${what}: the message shows a library's words (${leak}): "${msg}"`);
        else tally.message++;
      } else tally.rendered++;
      // the page still answers (a decoder stuck in a loop on the main thread would not)
      expect(await page.evaluate(() => document.readyState)).toBe('complete');
    }
    const { studies } = await invoke<{ studies: { id: number }[] }>(page, 'library.studies', { limit: 5000 });
    for (const st of studies) await invoke(page, 'library.remove', { studyId: st.id });
  }
  const through = tally.rendered + tally.message;
  const line = `seed ${SEED}: ${CASES} cases, ${tally.imported} imported, ${through} with pixels through the decode worker: ${tally.rendered} rendered, ${tally.message} with a message in DICOM terms, ${failures.length} failures`;
  test.info().annotations.push({ type: 'decode fuzz', description: line });
  console.log(`decode fuzz ${line}`);
  // the mutators keep a share of cases importable (else this spec would test nothing)
  expect(through + failures.length).toBeGreaterThan(CASES / 10);
  expect(failures).toEqual([]);
});
