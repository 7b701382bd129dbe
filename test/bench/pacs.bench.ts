/**
 * Lin et al.'s comparison for issue 12, on a real Orthanc (loopback) and a real embedded anvil:
 * retrieve a 200-slice 512² CT series that was anchored from its original files.
 *
 *   peer   plain dicomweb-client: one series-level WADO-RS request, the parts written to disk. It
 *          asks for `transfer-syntax=*` (the stored encoding) as ours does, and the bench checks it
 *          got the same 200 SOP Instance UIDs in the same transfer syntax as ours. dicomweb-client
 *          0.11.3's retrieveSeries rejects every `mediaTypes`, so the request goes through the
 *          method retrieveSeries itself calls (src/node/pacs/dicomweb.ts says the same).
 *   ours   Pacs.retrieve: content-addressed cache, library import, fingerprinting and chain
 *          verification of every instance (the report must say 200 verified), by WADO-RS, C-GET
 *          and C-MOVE (to our Storage SCP). C-GET / C-MOVE are also set against dcmtk's getscu /
 *          movescu (→ disk) in the same run.
 *
 * Rows: the overhead (ours / plain, goal ≤ 1.02×); the first image (series click → its first
 * instance in the library and decoded: what the viewer needs to draw it; the renderer's own paint is
 * in the viewer bench), against the plain client's first part on disk (it hands over all parts at
 * the end); throughput per method, each as a ratio to the plain client of the same run. Every retrieve
 * starts from nothing cached: between runs the cache, its library entries and their fingerprints are
 * removed (the anchor stays). Peer and ours alternate; best of N each; the load average is recorded
 * at the start and the end.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as dicomweb from 'dicomweb-client';
import XMLHttpRequest from 'xhr2';
import type { Bench, BenchRow } from './harness';
import { row, timeItAsync, median } from './harness';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { decodeFrames } from '../../src/node/dicom/decode';
import { freeLoopbackPort } from '../../src/node/net';
import { Services } from '../../src/node/services';
import { Task } from '../../src/node/tasks';
import { DEMO_PASSPHRASE } from '../../src/node/ledger';
import { findAnvilBinary } from '../../src/node/ledger/anvil';
import { pacsCacheDir, type RetrieveReport, type RetrieveVia } from '../../src/node/pacs';
import { readFileMeta } from '../../src/node/pacs/part10';
import { dimseAssociations } from '../../src/node/pacs/dimse';
import { startOrthanc } from '../support/orthanc';
import { run as runTool, storescu } from '../support/dcmtk';
import { tempDir } from '../support/tmp';

const ROUNDS = Number(process.env.MEDIMG_BENCH_PACS_ROUNDS ?? 3);


export const pacsBenches: Bench[] = [
  {
    name: 'pacs',
    description: 'retrieve an anchored 200-slice 512² CT series from Orthanc (loopback): plain dicomweb-client → disk vs ours (cache + import + fingerprints + chain verification); first image; WADO-RS vs C-GET vs C-MOVE (and dcmtk getscu / movescu)',
    async run() {
      if (!findAnvilBinary()) throw new Error('anvil not found (npm ci installs @foundry-rs/anvil)');
      const tmp = tempDir('medimg-bench-pacs-');
      const scpPort = await freeLoopbackPort();
      const movePort = await freeLoopbackPort();
      // Orthanc knows our AE title (C-GET, C-MOVE to our SCP) and dcmtk's movescu listener
      const orthanc = await startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', scpPort], dcmtk: ['MOVESCU', '127.0.0.1', movePort] } } });
      const s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' } });
      try {
        const slices = 200;
        const genDir = join(tmp.path, 'ct');
        const gen = await writeSampleSeries({ outDir: genDir, slices, kind: 'ct', seed: 200 });
        const st = await storescu(gen.files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
        if (st.code !== 0) throw new Error(`storescu failed: ${st.stderr}`);
        const sops = new Set(gen.files.map((f) => readFileMeta(readFileSync(f)).get(0x0003)!));

        // The record: anchored from the original files, then those files leave the library (a
        // fresh workstation has the record, not the images).
        const l = s.ledgerService;
        await l.demo.ensure();
        await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
        await s.library.import([genDir], new Task('import', null, () => {}));
        const anchor = await l.anchors.anchorStudy(gen.studyInstanceUid, { waitMs: 120_000 });
        if (anchor.anchor.delivery !== 'confirmed') throw new Error(`anchor not confirmed: ${anchor.anchor.delivery}`);
        const cacheDir = pacsCacheDir(s.home.cache);
        const forget = () => {
          const study = s.db.prepare('SELECT id FROM studies WHERE study_uid = ?').get(gen.studyInstanceUid) as { id: number } | undefined;
          if (study) s.library.remove({ studyId: study.id });
          s.db.prepare('DELETE FROM fingerprint_files WHERE path LIKE ? OR path LIKE ?').run(`${cacheDir}%`, `${genDir}%`);
          s.db.prepare('DELETE FROM pacs_instances').run();
          rmSync(cacheDir, { recursive: true, force: true });
          mkdirSync(cacheDir, { recursive: true });
        };
        forget();

        const pacs = s.pacs;
        pacs.add({ name: 'o', dicomweb: { url: orthanc.dicomWebUrl }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' } });
        await pacs.startStorageScp({ aeTitle: 'MEDIMGSHR', port: scpPort, allowedCallingAets: [orthanc.aet] });
        const load0 = loadavg()[0]!;
        let mb = 0;
        let plainTs = '';

        // (a) the peer: what a plain DICOMweb client does, parts to disk
        (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = XMLHttpRequest;
        const plain = async (k: number) => {
          const client = new dicomweb.api.DICOMwebClient({ url: orthanc.dicomWebUrl, verbose: false, singlepart: false });
          const url = `${orthanc.dicomWebUrl}/studies/${gen.studyInstanceUid}/series/${gen.seriesInstanceUid}`;
          const parts = (await (
            client as unknown as { _httpGetMultipartApplicationDicom(url: string, mediaTypes: unknown, params: unknown, request?: unknown): Promise<ArrayBuffer[]> }
          )._httpGetMultipartApplicationDicom(url, [{ mediaType: 'application/dicom', transferSyntaxUID: '*' }], false)) as ArrayBuffer[];
          const dir = join(tmp.path, `plain-${k}`);
          mkdirSync(dir);
          parts.forEach((p, i) => writeFileSync(join(dir, `${i}.dcm`), new Uint8Array(p)));
          if (parts.length !== slices) throw new Error(`plain client got ${parts.length} parts`);
          const got = new Set(parts.map((p) => readFileMeta(new Uint8Array(p)).get(0x0003)));
          if ([...sops].some((x) => !got.has(x))) throw new Error('plain client: not the same instances');
          plainTs = readFileMeta(new Uint8Array(parts[0]!)).get(0x0010) ?? '';
          mb = parts.reduce((n, p) => n + p.byteLength, 0) / 1e6;
        };

        // (b) ours; the first image: its first instance in the library, then decoded
        const ours = async (via: RetrieveVia) => {
          forget();
          const t0 = process.hrtime.bigint();
          const cpu0 = process.cpuUsage();
          let firstImported: Promise<number> | null = null;
          const t = await timeItAsync(() =>
            pacs.retrieve(
              'o',
              { study: gen.studyInstanceUid, series: gen.seriesInstanceUid, via },
              new Task('bench', null, () => {}),
              {
                onImported: (batch) => {
                  if (firstImported || batch.length === 0) return;
                  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
                  const path = batch[0]!.path;
                  firstImported = decodeFrames(new Uint8Array(readFileSync(path))).then((img) => {
                    if (!img.frames[0]?.byteLength) throw new Error('first image: no pixels');
                    return Math.max(ms, Number(process.hrtime.bigint() - t0) / 1e6);
                  });
                },
              },
            ),
          );
          const r: RetrieveReport = t.value;
          const cpu = process.cpuUsage(cpu0);
          // MEDIMG_BENCH_PACS_MARKS=1: monotonic µs of each run (the clock of node --cpu-prof), to read a profile per method
          if (process.env.MEDIMG_BENCH_PACS_MARKS) process.stderr.write(`mark ${via} ${t0 / 1000n} ${process.hrtime.bigint() / 1000n} ${t.ms.toFixed(0)}ms, this process's CPU (all threads) ${((cpu.user + cpu.system) / 1000).toFixed(0)}ms, load ${loadavg()[0]!.toFixed(1)} ${JSON.stringify(r.phases)}\n`);
          if (r.received !== slices || r.failed) throw new Error(`${via}: ${r.received} received, ${r.failed} failed ${JSON.stringify(r.error)}`);
          const fp = (s.db.prepare('SELECT COUNT(*) AS n FROM fingerprint_files WHERE error_code IS NULL AND path LIKE ?').get(`${cacheDir}%`) as { n: number }).n;
          if (fp !== slices) throw new Error(`${via}: ${fp} fingerprinted`);
          const verified = r.verification.verified ?? 0;
          // every method stores the data sets as the PACS sent them, so every instance verifies
          if (verified !== slices) throw new Error(`${via}: ${JSON.stringify(r.verification)}`);
          if (via === 'wado-rs') {
            const ts = readFileMeta(readFileSync(r.instances[0]!.path!)).get(0x0010);
            if (ts !== plainTs) throw new Error(`transfer syntax: ours ${ts}, plain ${plainTs}`);
          }
          return { ms: t.ms, first: firstImported ? await firstImported : NaN, verification: r.verification, phases: r.phases };
        };

        // dcmtk peers for the DIMSE methods (to disk). Debian's DCMTK 3.6.7 leaves Nagle's algorithm on
        // unless TCP_NODELAY is set: its C-STORE responses then waited for Orthanc's delayed
        // acknowledgement, 40–50 ms per image (getscu 18 images/s; with it, a 200-image C-GET took
        // 225 ms at load 10). Set for the dcmtk tools only, not for Orthanc (the PACS stays as deployed).
        const dcmtkEnv = { ...process.env, TCP_NODELAY: '1' };
        const getscu = async (k: number) => {
          const dir = join(tmp.path, `getscu-${k}`);
          mkdirSync(dir);
          const r = await runTool('getscu', ['-aet', 'MEDIMGSHR', '-aec', orthanc.aet, '-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${gen.studyInstanceUid}`, '-k', `SeriesInstanceUID=${gen.seriesInstanceUid}`, '-od', dir, '127.0.0.1', String(orthanc.dicomPort)], 300_000, dcmtkEnv);
          if (r.code !== 0) throw new Error(`getscu: ${r.stderr}`);
        };
        const movescu = async (k: number) => {
          const dir = join(tmp.path, `movescu-${k}`);
          mkdirSync(dir);
          const r = await runTool('movescu', ['-aet', 'MOVESCU', '-aec', orthanc.aet, '-aem', 'MOVESCU', '+P', String(movePort), '-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${gen.studyInstanceUid}`, '-k', `SeriesInstanceUID=${gen.seriesInstanceUid}`, '-od', dir, '127.0.0.1', String(orthanc.dicomPort)], 300_000, dcmtkEnv);
          if (r.code !== 0) throw new Error(`movescu: ${r.stderr}`);
        };

        const peer: number[] = [];
        const wado: { ms: number; first: number; phases: RetrieveReport['phases'] }[] = [];
        let wadoStates: Record<string, number> = {};
        await plain(-1); // warm Orthanc's cache and the plain client once, untimed
        for (let k = 0; k < ROUNDS; k++) {
          const cpu0 = process.cpuUsage();
          peer.push((await timeItAsync(() => plain(k))).ms);
          const cpu = process.cpuUsage(cpu0);
          if (process.env.MEDIMG_BENCH_PACS_MARKS) process.stderr.write(`plain ${peer[peer.length - 1]!.toFixed(0)}ms, this process's CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)}ms, load ${loadavg()[0]!.toFixed(1)}\n`);
          const o = await ours('wado-rs');
          wado.push(o);
          wadoStates = o.verification;
        }
        const get: number[] = [];
        const move: number[] = [];
        const getPeer: number[] = [];
        const movePeer: number[] = [];
        const dimsePlain: number[] = [];
        let getStates: Record<string, number> = {};
        let moveStates: Record<string, number> = {};
        for (let k = 0; k < (process.env.MEDIMG_BENCH_PACS_DIMSE === '0' ? 0 : ROUNDS); k++) {
          // the plain client again beside the DIMSE runs: their ratios compare like with like when the load changes
          dimsePlain.push((await timeItAsync(() => plain(100 + k))).ms);
          getPeer.push((await timeItAsync(() => getscu(k))).ms);
          const g = await ours('c-get');
          get.push(g.ms);
          getStates = g.verification;
          movePeer.push((await timeItAsync(() => movescu(k))).ms);
          const m = await ours('c-move');
          move.push(m.ms);
          moveStates = m.verification;
        }
        const load1 = loadavg()[0]!;
        const peerBest = Math.min(...peer);
        const wadoBest = Math.min(...wado.map((w) => w.ms));
        const firstBest = Math.min(...wado.map((w) => w.first));
        const getBest = Math.min(...get);
        const moveBest = Math.min(...move);
        const dimsePeerBest = dimsePlain.length ? Math.min(...dimsePlain) : peerBest;
        const load = `${cpus().length} cores, load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end (shared machine: indicative only)`;
        const bestWado = wado.reduce((a, b) => (b.ms < a.ms ? b : a));
        const ph = bestWado.phases;
        const phaseNote = `ours (best run): fetch ${ph.fetch} ms, then ${ph.afterLastArrival} ms after the last arrival; ${ph.batches} import batches: import ${ph.import} ms, verify (fingerprints + chain) ${ph.verify} ms, settle ${ph.settle} ms, overlapping the fetch and each other`;
        const note = `${slices} × 512² CT, ${mb.toFixed(0)} MB, transfer syntax ${plainTs}; best of ${ROUNDS} (medians: ours ${median(wado.map((w) => w.ms)).toFixed(0)} ms, plain ${median(peer).toFixed(0)} ms); ${load}`;
        const ips = (ms: number) => slices / (ms / 1000);
        const mbs = (ms: number) => mb / (ms / 1000);
        const rows: BenchRow[] = [
          row({
            metric: 'retrieve series, WADO-RS (ours: cache + import + fingerprints + chain verification, all verified)',
            ours: wadoBest,
            peer: peerBest,
            peerName: 'dicomweb-client, series → disk',
            unit: 'ms',
            better: 'lower',
            goal: '≤ 1.02× the plain client (Lin et al.: 1.05×)',
            met: wadoBest <= 1.02 * peerBest,
            note: `${note}; verification ${JSON.stringify(wadoStates)}; ${phaseNote}`,
          }),
          row({
            metric: 'first image: series click → first instance in the library and decoded (WADO-RS)',
            ours: firstBest,
            peer: peerBest,
            peerName: 'dicomweb-client: first part on disk (all parts come at the end)',
            unit: 'ms',
            better: 'lower',
            goal: '≤ 300 ms',
            met: firstBest <= 300,
            note: `median ${median(wado.map((w) => w.first)).toFixed(0)} ms; the renderer's paint after that is in the viewer bench; ${load}`,
          }),
          row({ metric: 'throughput, WADO-RS', ours: ips(wadoBest), peer: ips(peerBest), peerName: 'dicomweb-client', unit: 'images/s', better: 'higher', goal: '≥ 0.9× the plain client', met: wadoBest <= peerBest / 0.9 }),
          row({ metric: 'throughput, WADO-RS', ours: mbs(wadoBest), peer: mbs(peerBest), peerName: 'dicomweb-client', unit: 'MB/s', better: 'higher' }),
          ...(get.length === 0 ? [] : [row({
            metric: 'throughput, C-GET (ours: + import, fingerprints, verification)',
            ours: ips(getBest),
            peer: ips(dimsePeerBest),
            peerName: 'dicomweb-client (WADO-RS), measured beside the DIMSE runs',
            unit: 'images/s',
            better: 'higher',
            goal: '≥ 0.9× the plain client',
            met: getBest <= dimsePeerBest / 0.9,
            note: `verification ${JSON.stringify(getStates)} (data sets stored as received, not re-encoded); best of ${get.length}, medians: ours ${median(get).toFixed(0)} ms, plain ${median(dimsePlain).toFixed(0)} ms, getscu ${median(getPeer).toFixed(0)} ms; ${dimseAssociations()} associations (dimse.ts spreadSeries), in their own thread; ${load}`,
          }),
          row({ metric: 'throughput, C-GET vs dcmtk getscu → disk', ours: ips(getBest), peer: ips(Math.min(...getPeer)), peerName: 'getscu (TCP_NODELAY=1)', unit: 'images/s', better: 'higher' }),
          row({
            metric: 'throughput, C-MOVE to our Storage SCP (ours: + import, fingerprints, verification)',
            ours: ips(moveBest),
            peer: ips(dimsePeerBest),
            peerName: 'dicomweb-client (WADO-RS), measured beside the DIMSE runs',
            unit: 'images/s',
            better: 'higher',
            goal: '≥ 0.9× the plain client',
            met: moveBest <= dimsePeerBest / 0.9,
            note: `verification ${JSON.stringify(moveStates)}; best of ${move.length}, medians: ours ${median(move).toFixed(0)} ms, plain ${median(dimsePlain).toFixed(0)} ms, movescu ${median(movePeer).toFixed(0)} ms; ${dimseAssociations()} associations (listing first), our Storage SCP in its own thread; ${load}`,
          }),
          row({ metric: 'throughput, C-MOVE vs dcmtk movescu (own SCP) → disk', ours: ips(moveBest), peer: ips(Math.min(...movePeer)), peerName: 'movescu (TCP_NODELAY=1)', unit: 'images/s', better: 'higher' })]),
        ];
        return rows;
      } finally {
        await s.close();
        await orthanc.stop();
        tmp.cleanup();
      }
    },
  },
];
