/**
 * AI benchmark (`npm run bench ai`): per 2,048² CR image, a ResNet-18-like classifier at 224²
 * (random weights, generated here with test/support/onnx.ts), end to end (read + decode +
 * preprocess + inference) against the same model run directly with onnxruntime-node on an already
 * preprocessed tensor, alternating image by image in the same run; and per image in a whole study
 * (the worker backend prepares the next image while the current one is inferred) against the bare
 * runs back to back. CPU times (all threads; this thread's from schedstat) are reported beside the
 * wall-clock times because the machine is shared: other load inflates wall time far more than CPU
 * time. The pixel digest is not in the end-to-end time: the fingerprint tables already hold it for
 * an imported image.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateModelCard } from '../../src/core/ai/card';
import { SimdAreaReducer } from '../../src/core/ai/area-simd';
import { chooseWindow, normaliseChannels, planPreprocess, preprocess, preprocessRows, PreprocessScratch, windowAndResize } from '../../src/core/ai/preprocess';
import { greyImageOf } from '../../src/node/ai/dicom-input';
import { InferenceEngine, type InferenceJob, type InferenceOutcome, type Timings } from '../../src/node/ai/inference';
import { findAiWorkerScript, WorkerInference, type EngineOptions } from '../../src/node/ai/inference-runner';
import { loadSession, ort, ortSessionOptions, type OrtSession } from '../../src/node/ai/onnx-runtime';
import { decodeFrames } from '../../src/node/dicom/decode';
import { parseDicomBytes } from '../../src/node/dicom/parse';
import { crImageBytes } from '../support/ai';
import { resnet18Like, seededRandom } from '../support/onnx';
import { row, timeItAsync, type Bench, type BenchRow, median } from './harness';

const IMAGES = Number(process.env.AI_BENCH_IMAGES ?? 8);
/** Whole studies per side (ours and the peer alternate study by study). */
const ROUNDS = Number(process.env.AI_BENCH_ROUNDS ?? 3);
/** AI_BENCH_SWEEP=0 skips the ONNX Runtime thread-settings rows. */
const SWEEP = process.env.AI_BENCH_SWEEP !== '0';
const SIZE = 2048;
const LABELS = ['Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia', 'Pneumothorax', 'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural thickening', 'Hernia'];

/** CPU time of the calling thread (Linux schedstat, ns → ms): other processes' load does not count in it. */
/** Runs per CPU-time figure: /proc/thread-self/schedstat advances in scheduler ticks, so one run of a few ms may read 0 or 4 ms. */
const REPEAT = 25;
const threadCpuMs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;


/** A chest-radiograph-like 12-bit image: bright mediastinum and edges, darker lungs, noise. */
function crPixels(seed: number): Uint16Array {
  const rnd = seededRandom(seed);
  const px = new Uint16Array(SIZE * SIZE);
  const c = SIZE / 2;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const lung = ((x - c * 0.55) / (c * 0.35)) ** 2 + ((y - c) / (c * 0.7)) ** 2 < 1 || ((x - c * 1.45) / (c * 0.35)) ** 2 + ((y - c) / (c * 0.7)) ** 2 < 1;
      px[y * SIZE + x] = Math.max(0, Math.min(4095, (lung ? 900 : 2600) + Math.round((rnd() - 0.5) * 200)));
    }
  }
  return px;
}

export const aiBench: Bench = {
  name: 'ai',
  description: `AI inference per ${SIZE}² CR image, ResNet-18-like at 224² (random weights): end to end vs onnxruntime-node on a preprocessed tensor`,
  async run(): Promise<BenchRow[]> {
    const dir = join(tmpdir(), `medimg-bench-ai-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const modelPath = join(dir, 'model.onnx');
      writeFileSync(modelPath, resnet18Like({ size: 224, channels: 3, labels: LABELS.length }));
      const v = validateModelCard({
        schema: 'medimgshr-model-card/1',
        name: 'ResNet-18-like (random weights, benchmark only)',
        version: '0',
        intendedUse: 'Benchmark of the inference path; meaningless outputs.',
        notForDiagnosticUse: true,
        licence: 'CC0-1.0',
        accepts: { modalities: ['CR', 'DX'], bodyParts: ['CHEST'], viewPositions: ['PA', 'AP'] },
        input: { name: 'input', width: 224, height: 224, channels: 3 },
        preprocessing: { window: { mode: 'file' }, resize: 'area', normalise: { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
        output: { name: 'logits', activation: 'sigmoid', labels: LABELS.map((name) => ({ name, threshold: 0.5 })) },
      });
      if (!v.ok) throw new Error(v.problems.join('; '));
      const card = v.card;
      const files: string[] = [];
      for (let i = 0; i < IMAGES; i++) {
        const f = join(dir, `cr${i}.dcm`);
        writeFileSync(f, crImageBytes({ rows: SIZE, columns: SIZE, pixels: crPixels(i + 1), window: { center: 1800, width: 3600 }, instance: `bench${i}` }).bytes);
        files.push(f);
      }
      const modelSha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
      const job = (f: string): InferenceJob => ({ filePath: f, model: { id: 'bench', modelPath, modelSha256, card }, computePixelDigest: false });

      // the peer: the same model, loaded the way the engine loads it (from the checked bytes, with the
      // app's session options: ortSessionOptions), onnxruntime-node directly, on tensors preprocessed beforehand
      const loadStart = loadavg()[0]!;
      const modelBytes = new Uint8Array(readFileSync(modelPath));
      const peerSession = await loadSession(modelBytes);
      const appOptions = JSON.stringify(ortSessionOptions());
      const tensors: ort.Tensor[] = [];
      for (const f of files) {
        const p = parseDicomBytes(new Uint8Array(readFileSync(f)));
        const t = preprocess(await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames), card);
        tensors.push(new ort.Tensor('float32', t.tensor, t.dims));
      }
      const engine = new InferenceEngine(decodeFrames);
      // the same engine with its preprocessing in one thread (no row helper), for the split's effect in this run
      const engineOneThread = new InferenceEngine(decodeFrames, { splitRows: false });
      const script = findAiWorkerScript();
      // the app's backend (prepareAhead auto) and the same with the other choice, to measure the rule
      const worker = script ? new WorkerInference(script) : null;
      const workerOther = script && worker ? new WorkerInference(script, { prepareAhead: worker.preparesAhead ? 'never' : 'always' }) : null;
      // the app's backend reading each file whole before preprocessing (readRows off), for that choice's effect in this run
      const workerWhole = script ? new WorkerInference(script, { readRows: false }) : null;
      const mode = (w: WorkerInference) => (w.preparesAhead ? 'next image prepared in a second thread during inference' : 'each image prepared in the inferring thread, then inferred');
      const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
      const expectResult = (o: InferenceOutcome, what: string) => {
        if (o.kind !== 'result') throw new Error(`${what}: ${o.kind === 'failed' ? o.message : o.reason}`);
        return o;
      };
      /** A study: every image through the backend, each run told the next (so it is prepared meanwhile); ms per image. */
      const study = async (backend: WorkerInference) => {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const outs: InferenceOutcome[] = [];
        for (let i = 0; i < IMAGES; i++) outs.push(await backend.run(job(files[i]!), undefined, i + 1 < IMAGES ? job(files[i + 1]!) : undefined));
        const ms = Number(process.hrtime.bigint() - t0) / 1e6 / IMAGES;
        return { ms, cpu: cpuMs(process.cpuUsage(c0)) / IMAGES, timings: outs.map((o, i) => expectResult(o, `study image ${i}`).timings) };
      };
      let peerStudyCpu: number[] = [];
      const peerStudy = async (session: OrtSession) => {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < IMAGES; i++) await session.run({ input: tensors[i]! });
        peerStudyCpu.push(cpuMs(process.cpuUsage(c0)) / IMAGES);
        return Number(process.hrtime.bigint() - t0) / 1e6 / IMAGES;
      };
      // warm-up: first runs allocate and optimise; a study of two also starts (and warms) a preparing thread
      for (let i = 0; i < 2; i++) {
        await peerSession.run({ input: tensors[0]! });
        await engine.run(job(files[0]!));
        await engineOneThread.run(job(files[0]!));
        for (const w of [worker, workerOther, workerWhole]) if (w) await w.run(job(files[0]!), undefined, job(files[1]!));
        for (const w of [worker, workerOther, workerWhole]) if (w) await w.run(job(files[1]!));
      }
      const peer: number[] = [];
      const inline: number[] = [];
      const viaWorker: number[] = [];
      const viaWorkerWhole: number[] = [];
      const studyWhole: number[] = [];
      const parts: Timings[] = [];
      const peerCpu: number[] = [];
      const inlineCpu: number[] = [];
      const workerParts: Timings[] = [];
      const inferOnly: number[] = [];
      const oneThreadParts: Timings[] = [];
      // single images, ours and the peer alternating image by image
      for (let i = 0; i < IMAGES; i++) {
        let c0 = process.cpuUsage();
        peer.push((await timeItAsync(() => peerSession.run({ input: tensors[i]! }))).ms);
        peerCpu.push(cpuMs(process.cpuUsage(c0)));
        c0 = process.cpuUsage();
        const o = await timeItAsync(() => engine.run(job(files[i]!)));
        inlineCpu.push(cpuMs(process.cpuUsage(c0)));
        parts.push(expectResult(o.value, `bench image ${i}`).timings);
        inline.push(o.ms);
        oneThreadParts.push(expectResult(await engineOneThread.run(job(files[i]!)), `one-thread image ${i}`).timings);
        if (worker) {
          const w = await timeItAsync(() => worker.run(job(files[i]!)));
          viaWorker.push(w.ms);
          workerParts.push(expectResult(w.value, `worker image ${i}`).timings);
        }
        if (workerWhole) viaWorkerWhole.push((await timeItAsync(() => workerWhole.run(job(files[i]!)))).ms);
        // the engine's own session on an already prepared tensor (no reading or preprocessing just before)
        const prepared = { kind: 'prepared' as const, instance: { sopInstanceUid: null, studyInstanceUid: null, seriesInstanceUid: null }, window: { center: 0, width: 1, source: 'card' as const }, inverted: false, preprocessing: '', tensor: tensors[i]!.data as Float32Array, dims: [1, 3, 224, 224] as [1, number, number, number], pixelSha256: null, timings: { readMs: 0, decodeMs: 0, preprocessMs: 0 } };
        inferOnly.push(expectResult(await engine.infer(job(files[i]!), prepared), `engine.infer ${i}`).timings.inferenceMs);
      }
      // the engine's session and the peer's, run after run on the same tensors (the same work just before each):
      // a difference here is the sessions', not what precedes inference
      const abEngine: number[] = [];
      const abPeer: number[] = [];
      for (let i = 0; i < IMAGES; i++) {
        const prepared = { kind: 'prepared' as const, instance: { sopInstanceUid: null, studyInstanceUid: null, seriesInstanceUid: null }, window: { center: 0, width: 1, source: 'card' as const }, inverted: false, preprocessing: '', tensor: tensors[i]!.data as Float32Array, dims: [1, 3, 224, 224] as [1, number, number, number], pixelSha256: null, timings: { readMs: 0, decodeMs: 0, preprocessMs: 0 } };
        const first = i % 2 === 0;
        for (const who of first ? ['peer', 'engine'] : ['engine', 'peer']) {
          if (who === 'peer') abPeer.push((await timeItAsync(() => peerSession.run({ input: tensors[i]! }))).ms);
          else abEngine.push(expectResult(await engine.infer(job(files[i]!), prepared), `engine.infer ${i}`).timings.inferenceMs);
        }
      }
      // whole studies, ours (pipelined) and the peer (bare runs back to back) alternating study by study
      const studyOurs: number[] = [];
      const studyPeer: number[] = [];
      const studyParts: Timings[] = [];
      const studyCpu: number[] = [];
      const otherOurs: number[] = [];
      const otherParts: Timings[] = [];
      if (worker && workerOther) {
        for (let r = 0; r < ROUNDS; r++) {
          studyPeer.push(await peerStudy(peerSession));
          const s = await study(worker);
          studyOurs.push(s.ms);
          studyCpu.push(s.cpu);
          studyParts.push(...s.timings);
          const o = await study(workerOther);
          otherOurs.push(o.ms);
          if (workerWhole) studyWhole.push((await study(workerWhole)).ms);
          otherParts.push(...o.timings);
        }
      }
      // decode + preprocess CPU time on this thread: the one pass over the file's words vs the path it
      // replaced (decoded canonical copy, then window + two-pass area resize, then normalise), same images
      const prepNow: number[] = [];
      const prepBefore: number[] = [];
      const scratchNow = new PreprocessScratch();
      const scratchBefore = new PreprocessScratch();
      // the SIMD kernel (what the engine runs for these images) vs the JavaScript one pass, both on this thread, file bytes in the kernel's memory
      const simdCpu: number[] = [];
      const jsCpu: number[] = [];
      const reducer = SimdAreaReducer.create();
      if (reducer) {
        const scratchJs = new PreprocessScratch();
        const tensor = new Float32Array(3 * 224 * 224);
        for (let r = 0; r < 3; r++) {
          for (let i = 0; i < IMAGES; i++) {
            const b = readFileSync(files[i]!);
            const into = reducer.fileBytes(b.byteLength);
            into.set(b);
            const p = parseDicomBytes(into);
            const grey = await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames);
            const plan = planPreprocess(grey, card);
            // schedstat counts in scheduler ticks (4 ms here): each figure is the mean of REPEAT runs
            let c0 = threadCpuMs();
            for (let k = 0; k < REPEAT; k++) reducer.run(grey, card, plan, { from: 0, to: 224 }, tensor);
            if (r > 0) simdCpu.push((threadCpuMs() - c0) / REPEAT);
            c0 = threadCpuMs();
            for (let k = 0; k < REPEAT; k++) preprocessRows(grey, card, plan, { from: 0, to: 224 }, tensor, scratchJs);
            if (r > 0) jsCpu.push((threadCpuMs() - c0) / REPEAT);
          }
        }
      }
      for (let r = 0; r < 2; r++) {
        for (let i = 0; i < IMAGES; i++) {
          const p = parseDicomBytes(new Uint8Array(readFileSync(files[i]!)));
          let c0 = threadCpuMs();
          for (let k = 0; k < REPEAT; k++) preprocess(await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames), card, scratchNow);
          if (r > 0) prepNow.push((threadCpuMs() - c0) / REPEAT);
          c0 = threadCpuMs();
          for (let k = 0; k < REPEAT; k++) {
            const d = await decodeFrames(p.dataSet, { frames: [0], canonicalSamples: true, transferSyntaxUid: p.transferSyntaxUid });
            const f = d.frames[0]!;
            const grey = { ...(await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames)), samples: new Uint16Array(f.buffer, f.byteOffset, f.byteLength / 2), storedBits: undefined };
            const w = chooseWindow(card.preprocessing.window, grey);
            normaliseChannels(windowAndResize(grey, w, false, 224, 224, 'area', scratchBefore), 3, card.preprocessing.normalise, scratchBefore);
          }
          if (r > 0) prepBefore.push((threadCpuMs() - c0) / REPEAT);
        }
      }
      await engine.close();
      await engineOneThread.close();
      await worker?.close();
      await workerOther?.close();
      await workerWhole?.close();
      await peerSession.release();
      // ONNX Runtime's thread settings, each measured against a bare session with the same settings
      const settings: { name: string; o: EngineOptions }[] = [
        { name: 'intra-op threads: ONNX Runtime default, sequential (what the app uses)', o: {} },
        { name: 'intra-op threads 1, sequential', o: { intraOpThreads: 1 } },
        { name: 'intra-op threads 2, sequential', o: { intraOpThreads: 2 } },
        { name: 'intra-op threads: default, parallel execution', o: { executionMode: 'parallel' } },
      ];
      const sweep: { name: string; ours: number; bare: number }[] = [];
      const studyPeerCpu = peerStudyCpu;
      peerStudyCpu = [];
      if (script && SWEEP) {
        for (const st of settings) {
          const w = new WorkerInference(script, st.o);
          const bareS = await loadSession(modelBytes, st.o);
          await w.run(job(files[0]!), undefined, job(files[1]!));
          await w.run(job(files[1]!));
          await bareS.run({ input: tensors[0]! });
          const o: number[] = [];
          const b: number[] = [];
          for (let r = 0; r < 2; r++) {
            b.push(await peerStudy(bareS));
            o.push((await study(w)).ms);
          }
          sweep.push({ name: `${st.name}; ${mode(w)}`, ours: median(o), bare: median(b) });
          await w.close();
          await bareS.release();
        }
      }
      const loadEnd = loadavg()[0]!;
      const bare = median(peer);
      const load = `load average ${loadStart.toFixed(1)} → ${loadEnd.toFixed(1)} on ${cpus().length} cores`;
      const note = `median of ${IMAGES} images; shared machine (${load}): indicative numbers, the ratio is the result`;
      const goal = '≤ 1.3× and ≤ 250 ms';
      const rows: BenchRow[] = [];
      rows.push(row({ metric: 'bare inference per image (the peer, same run)', ours: bare, unit: 'ms', better: 'lower', note: `onnxruntime-node, loaded from the model's bytes with the app's session options ${appOptions}, on a preprocessed tensor` }));
      if (worker) {
        const e2e = median(viaWorker);
        rows.push(row({ metric: 'end to end, single image, worker threads (read + decode + preprocess + inference)', ours: e2e, peer: bare, peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', goal, met: e2e <= 1.3 * bare && e2e <= 250, note }));
        const st = median(studyOurs);
        const sp = median(studyPeer);
        rows.push(row({ metric: `end to end per image in a study of ${IMAGES} (the app's choice: ${mode(worker)})`, ours: st, peer: sp, peerName: `onnxruntime-node, ${IMAGES} preprocessed tensors back to back`, unit: 'ms', better: 'lower', goal, met: st <= 1.3 * sp && st <= 250, note: `median of ${ROUNDS} studies; ${load}` }));
        rows.push(row({ metric: 'CPU time per image in a study (all threads)', ours: median(studyCpu), peer: median(studyPeerCpu), peerName: 'bare, back to back', unit: 'ms', better: 'lower', goal: '≤ 1.3×', met: median(studyCpu) <= 1.3 * median(studyPeerCpu), note: 'what the other load cannot inflate much: the work added to the bare inference' }));
        rows.push(row({ metric: 'inference inside the study pipeline', ours: median(studyParts.map((p) => p.inferenceMs)), peer: sp, peerName: 'bare, back to back', unit: 'ms', better: 'lower', note: mode(worker) }));
        const so = median(otherOurs);
        rows.push(row({ metric: `end to end per image in a study of ${IMAGES}, the other choice: ${mode(workerOther!)}`, ours: so, peer: sp, peerName: `onnxruntime-node, ${IMAGES} preprocessed tensors back to back`, unit: 'ms', better: 'lower', note: `inference inside it ${median(otherParts.map((p) => p.inferenceMs)).toFixed(1)} ms; median of ${ROUNDS} studies` }));
        if (workerWhole) {
          rows.push(row({ metric: 'single image, worker: pixel rows read while preprocessing (the app) vs the whole file read first', ours: e2e, peer: median(viaWorkerWhole), peerName: 'the same backend with readRows: false, alternating image by image', unit: 'ms', better: 'lower', note: `header read + parse ${median(workerParts.map((p) => p.readMs)).toFixed(2)} ms; ${load}` }));
          rows.push(row({ metric: `study of ${IMAGES}, per image: pixel rows read while preprocessing (the app) vs the whole file read first`, ours: st, peer: median(studyWhole), peerName: 'the same backend with readRows: false, alternating study by study', unit: 'ms', better: 'lower', note: `median of ${ROUNDS} studies` }));
        }
        rows.push(row({ metric: 'inference inside the single-image pipeline, worker', ours: median(workerParts.map((p) => p.inferenceMs)), peer: bare, peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', note: `read + parse ${median(workerParts.map((p) => p.readMs)).toFixed(1)} ms, preprocess ${median(workerParts.map((p) => p.preprocessMs)).toFixed(1)} ms in the worker` }));
      }
      const e2eInline = median(inline);
      rows.push(row({ metric: 'end to end, single image, calling thread', ours: e2eInline, peer: bare, peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', goal, met: e2eInline <= 1.3 * bare && e2eInline <= 250, note: worker ? note : `${note}; worker bundle not built (node scripts/build.mjs --node)` }));
      rows.push(row({ metric: 'CPU time per image (all threads), calling thread', ours: median(inlineCpu), peer: median(peerCpu), peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', goal: '≤ 1.3×', met: median(inlineCpu) <= 1.3 * median(peerCpu), note: 'CPU time depends less on other load than wall-clock time' }));
      rows.push(row({ metric: 'decode + preprocess CPU per image (this thread): one pass over the file vs the path it replaced', ours: median(prepNow), peer: median(prepBefore), peerName: 'decoded copy + window, two-pass area resize, normalise', unit: 'ms', better: 'lower', note: `median of ${IMAGES} images, each the mean of ${REPEAT} runs, thread CPU time (schedstat)` }));
      if (simdCpu.length) rows.push(row({ metric: 'preprocess CPU per image (this thread): WebAssembly SIMD kernel (what the engine runs here) vs the JavaScript one pass', ours: median(simdCpu), peer: median(jsCpu), peerName: 'JavaScript one pass (windowAreaNormalise)', unit: 'ms', better: 'lower', note: `median of ${simdCpu.length} images, each the mean of ${REPEAT} runs, thread CPU time (schedstat)` }));
      rows.push(row({ metric: 'read + parse per image', ours: median(parts.map((p) => p.readMs)), unit: 'ms', better: 'lower' }));
      rows.push(row({ metric: `decode per image (${SIZE}², 16-bit native: a view of the file)`, ours: median(parts.map((p) => p.decodeMs)), unit: 'ms', better: 'lower' }));
      const helperShare = parts.reduce((a, p) => a + (p.splitRows ? p.splitRows.byHelper / p.splitRows.chunks : 0), 0) / parts.length;
      rows.push(row({ metric: 'preprocess per image (window, area resize to 224², normalise, 3 channels; one pass), calling thread + row helper', ours: median(parts.map((p) => p.preprocessMs)), peer: median(oneThreadParts.map((p) => p.preprocessMs)), peerName: 'the same engine, preprocessing in one thread (splitRows: false)', unit: 'ms', better: 'lower', note: `the helper thread did ${(100 * helperShare).toFixed(0)} % of the output rows (mean over ${IMAGES} images); alternating image by image` }));
      rows.push(row({ metric: 'inference inside the single-image pipeline, calling thread', ours: median(parts.map((p) => p.inferenceMs)), peer: bare, peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', note: 'right after this thread read and preprocessed the image' }));
      rows.push(row({ metric: "the engine's session vs the peer's, alternating run by run on the same tensors", ours: median(abEngine), peer: median(abPeer), peerName: 'onnxruntime-node, same run order', unit: 'ms', better: 'lower', note: 'a ratio ≠ 1 here would be the sessions (settings, loading); ≈ 1 means the gap above is what ran just before inference' }));
      rows.push(row({ metric: "the engine's session on an already preprocessed tensor (right after a worker run)", ours: median(inferOnly), peer: bare, peerName: 'onnxruntime-node on a preprocessed tensor', unit: 'ms', better: 'lower', note: 'same thread as the peer: separates session settings from what runs just before inference' }));
      for (const w of sweep) rows.push(row({ metric: `study per image, ${w.name}`, ours: w.ours, peer: w.bare, peerName: 'bare session, same settings', unit: 'ms', better: 'lower' }));
      rows.push(row({ metric: 'machine load average (1 min) at the end', ours: loadEnd, unit: 'load', better: 'lower', note: `${load}; started at ${loadStart.toFixed(1)}` }));
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
