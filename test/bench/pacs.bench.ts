/**
 * Lin et al.'s comparison for issue 12: retrieve a 200-slice 512² CT series from Orthanc on
 * loopback — (a) plain dicomweb-client (retrieveSeries, parts written to disk) vs (b) ours (WADO-RS
 * per instance with transfer-syntax=*, content-addressed cache, library import, fingerprinting of
 * every instance); then ours by C-GET and by C-MOVE (to our Storage SCP). Ours and the peer
 * alternate, best of 2 each. Chain verification is not in these rows (no ledger in this bench).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as dicomweb from 'dicomweb-client';
import XMLHttpRequest from 'xhr2';
import type { Bench, BenchRow } from './harness';
import { row, timeItAsync } from './harness';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { freeLoopbackPort } from '../../src/node/net';
import { Services } from '../../src/node/services';
import { Task } from '../../src/node/tasks';
import type { RetrieveVia } from '../../src/node/pacs';
import { startOrthanc } from '../support/orthanc';
import { storescu } from '../support/dcmtk';
import { tempDir } from '../support/tmp';

export const pacsBenches: Bench[] = [
  {
    name: 'pacs',
    description: 'retrieve a 200-slice 512² CT series from Orthanc (loopback): plain dicomweb-client vs ours (cache + import + fingerprints); WADO-RS vs C-GET vs C-MOVE',
    async run() {
      const tmp = tempDir('medimg-bench-pacs-');
      const scpPort = await freeLoopbackPort();
      const orthanc = await startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', scpPort] } } });
      try {
        const slices = 200;
        const gen = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices, kind: 'ct', seed: 200 });
        const st = await storescu(gen.files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
        if (st.code !== 0) throw new Error(`storescu failed: ${st.stderr}`);
        const load = loadavg()[0]!;
        let mb = 0;

        // (a) the peer: what a plain DICOMweb client does, parts to disk
        (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequest;
        const plain = async (k: number) => {
          const client = new dicomweb.api.DICOMwebClient({ url: orthanc.dicomWebUrl, verbose: false, singlepart: false });
          const parts = (await client.retrieveSeries({ studyInstanceUID: gen.studyInstanceUid, seriesInstanceUID: gen.seriesInstanceUid } as never)) as ArrayBuffer[];
          const dir = join(tmp.path, `plain-${k}`);
          mkdirSync(dir);
          parts.forEach((p, i) => writeFileSync(join(dir, `${i}.dcm`), new Uint8Array(p)));
          if (parts.length !== slices) throw new Error(`plain client got ${parts.length} parts`);
          mb = parts.reduce((n, p) => n + p.byteLength, 0) / 1e6;
        };
        // (b) ours, into a fresh app-data folder each time (Services start-up not timed)
        let run = 0;
        const ours = async (via: RetrieveVia) => {
          const s = await Services.open({ home: join(tmp.path, `home-${run++}`), ledger: { mode: 'none' } });
          try {
            const pacs = s.pacs;
            pacs.add({ name: 'o', dicomweb: { url: orthanc.dicomWebUrl }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' } });
            if (via === 'c-move') await pacs.startStorageScp({ aeTitle: 'MEDIMGSHR', port: scpPort, allowedCallingAets: [orthanc.aet] });
            const t = await timeItAsync(() => pacs.retrieve('o', { study: gen.studyInstanceUid, series: gen.seriesInstanceUid, via }, new Task('bench', null, () => {})));
            if (t.value.received !== slices || t.value.failed) throw new Error(`${via}: ${t.value.received} received, ${t.value.failed} failed ${JSON.stringify(t.value.error)}`);
            const fp = (s.db.prepare('SELECT COUNT(*) AS n FROM fingerprint_files WHERE error_code IS NULL').get() as { n: number }).n;
            if (fp !== slices) throw new Error(`${via}: ${fp} fingerprinted`);
            return t.ms;
          } finally {
            await s.close();
          }
        };
        let peerBest = Infinity;
        let wadoBest = Infinity;
        for (let k = 0; k < 2; k++) {
          peerBest = Math.min(peerBest, (await timeItAsync(() => plain(k))).ms);
          wadoBest = Math.min(wadoBest, await ours('wado-rs'));
        }
        let getBest = Infinity;
        let moveBest = Infinity;
        for (let k = 0; k < 2; k++) {
          getBest = Math.min(getBest, await ours('c-get'));
          moveBest = Math.min(moveBest, await ours('c-move'));
        }
        const note = `${slices} × 512² CT, ${mb.toFixed(0)} MB; ${cpus().length} cores, load average ${load.toFixed(1)} at the start (shared machine: indicative only); best of 2`;
        const rows: BenchRow[] = [
          row({ metric: 'retrieve series, WADO-RS (ours: cache + import + fingerprints)', ours: wadoBest, peer: peerBest, peerName: 'dicomweb-client retrieveSeries → disk', unit: 'ms', better: 'lower', goal: '≤ 1.02× the plain client (Lin et al.: 1.05×)', met: wadoBest <= 1.02 * peerBest, note }),
          row({ metric: 'throughput, WADO-RS', ours: slices / (wadoBest / 1000), peer: slices / (peerBest / 1000), peerName: 'dicomweb-client', unit: 'images/s', better: 'higher', goal: '≥ 0.9× the plain client', met: wadoBest <= peerBest / 0.9 }),
          row({ metric: 'throughput, WADO-RS', ours: mb / (wadoBest / 1000), peer: mb / (peerBest / 1000), peerName: 'dicomweb-client', unit: 'MB/s', better: 'higher' }),
          row({ metric: 'retrieve series, C-GET (ours)', ours: getBest, peer: peerBest, peerName: 'dicomweb-client retrieveSeries → disk', unit: 'ms', better: 'lower' }),
          row({ metric: 'retrieve series, C-MOVE to our Storage SCP (ours)', ours: moveBest, peer: peerBest, peerName: 'dicomweb-client retrieveSeries → disk', unit: 'ms', better: 'lower' }),
        ];
        return rows;
      } finally {
        await orthanc.stop();
        tmp.cleanup();
      }
    },
  },
];
