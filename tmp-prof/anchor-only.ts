import { join } from 'node:path';
import { writeSampleSeries } from '../src/node/dicom/sample';
import { DEMO_PASSPHRASE } from '../src/node/ledger';
import { Services } from '../src/node/services';
import { tempDir } from '../test/support/tmp';

const SLICES = Number(process.env.MEDIMG_BENCH_STUDY_SIZE ?? 1000);
const tmp = tempDir('medimg-prof-ledger-');
const s = await Services.open({ home: tmp.path, ledger: { mode: 'embedded' } });
try {
  const l = s.ledgerService;
  await l.demo.ensure();
  const a = l.demo.addresses();
  await s.identity.unlock(a.clinician!, DEMO_PASSPHRASE);
  const dir = join(tmp.path, 'ct1000');
  const sample = await writeSampleSeries({ outDir: dir, slices: SLICES, kind: 'ct', seed: 4242 });
  await s.tasks.run('import', null, (task) => s.library.import([dir], task));
  if (process.env.WARM) s.warmUp();
  const t0 = performance.now(); console.log('WIN0', process.hrtime.bigint() / 1000n);
  const r = await l.anchors.anchorStudy(sample.studyInstanceUid, { waitMs: 120_000 });
  const t1 = performance.now(); console.log('WIN1', process.hrtime.bigint() / 1000n);
  console.log('anchor ms', (t1 - t0).toFixed(0), r.anchor.delivery, (SLICES / ((t1 - t0) / 1000)).toFixed(0), 'img/s');
  const t2 = performance.now();
  const fp = await s.fingerprints.fingerprintPaths(sample.files, { force: true });
  console.log('fp forced ms', (performance.now() - t2).toFixed(0), fp.instances.length);
} finally {
  await s.close();
  tmp.cleanup();
}
