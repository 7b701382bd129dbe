/**
 * Slab MIP / MinIP / average: a 40 mm sagittal slab through the spine shows, at every point, the
 * maximum (minimum, mean) of the phantom's voxels across the slab, computed here from the
 * generator's files; the vertebral cortex (1100 HU) just off the midline appears in the MIP where
 * the single midline slice shows cancellous bone (300 HU).
 */
import { test, expect } from './rig';
import { importPaths, openSeries, sampleSeries } from './support/viewer';
import { greyOf, mprScreens, openMpr, pearson, planes, readPhantom, sagittalSlab, sample, settle } from './support/mpr';

test('a 40 mm MIP over the spine gives the maximum the test computes; MinIP and average likewise', async ({ app }) => {
  test.setTimeout(300_000);
  const { page } = app;
  const ct = await sampleSeries(120, 'ct', 161);
  try {
    await importPaths(page, [ct.dir]);
    await openSeries(page);
    await openMpr(page);
    // Bone window (W 1800 / L 400): −500…1300 HU, ~7 HU per grey level.
    await page.getByLabel('MPR window preset').selectOption('bone');
    const T = 40;
    await page.getByLabel('Slab projection').selectOption('mip');
    await page.getByLabel('Slab thickness').selectOption(String(T));
    await settle(page);
    const ps = await planes(page);
    expect(ps.sagittal.voi).toEqual({ lower: -500, upper: 1300 });
    expect(ps.sagittal.slabMm).toBeCloseTo(T, 6);
    await expect(page.getByTestId('mpr-sagittal-wl')).toHaveText('W 1800 L 400 · MIP 40 mm');
    const vol = readPhantom(ct.files);
    const x0 = ps.sagittal.focalPoint[0]!;
    const voi = ps.sagittal.voi!;
    const toHu = (g: number) => voi.lower + (g / 255) * (voi.upper - voi.lower);

    const compare = async (mode: 'mip' | 'minip' | 'average') => {
      const pts = await sample(page, 'sagittal', 64);
      const rendered: number[] = [];
      const expected: number[] = [];
      const bright: { hu: number; max: number }[] = [];
      for (const s of pts) {
        const want = sagittalSlab(vol, x0, T, s.world[1]!, s.world[2]!, mode);
        if (want === null) continue;
        rendered.push(s.grey);
        expected.push(greyOf(want, voi));
        if (mode === 'mip') {
          const single = sagittalSlab(vol, x0, 0.01, s.world[1]!, s.world[2]!, 'mip');
          // A bright structure that only the slab reaches: cortex beside a midline of cancellous bone.
          if (single !== null && want > 1000 && single < 500 && want < voi.upper) bright.push({ hu: toHu(s.grey), max: want });
        }
      }
      const r = pearson(rendered, expected);
      const mad = rendered.reduce((a, g, i) => a + Math.abs(g - expected[i]!), 0) / rendered.length;
      console.log(`${mode}: ${rendered.length} points, r = ${r.toFixed(4)}, mean |Δgrey| = ${mad.toFixed(2)}, bright points ${bright.length}`);
      expect(rendered.length).toBeGreaterThan(500);
      expect(r, `${mode} slab vs the projection computed here`).toBeGreaterThan(0.95);
      expect(mad).toBeLessThan(12);
      return bright;
    };

    const bright = await compare('mip');
    expect(bright.length).toBeGreaterThan(10);
    for (const b of bright) expect(Math.abs(b.hu - b.max), `MIP ${b.hu.toFixed(0)} HU vs max ${b.max.toFixed(0)} HU`).toBeLessThan(60);
    await mprScreens(page, app.screenshot, 'slab-mip');

    await page.getByLabel('Slab projection').selectOption('minip');
    await settle(page);
    await expect(page.getByTestId('mpr-sagittal-wl')).toHaveText('W 1800 L 400 · MinIP 40 mm');
    await compare('minip');

    await page.getByLabel('Slab projection').selectOption('average');
    await settle(page);
    await compare('average');

    // Back to a single slice: the slab is gone.
    await page.getByLabel('Slab projection').selectOption('single');
    await settle(page);
    await expect(page.getByTestId('mpr-sagittal-wl')).toHaveText('W 1800 L 400');
  } finally {
    ct.cleanup();
  }
});
