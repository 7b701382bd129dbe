/**
 * `medimgshr model add|list|remove|run|findings|sidecar|anchor|verify`: AI models supplied by the clinic
 * (docs/ai.md). This file is also where today's objects are wired into the AI domain for the
 * command line (`openAi`).
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AI_DISCLAIMER, type Finding } from '../core/ai/findings';
import { computePixelDigest, createAi, inspectModel, type AiService, type AssessedResult, type InstalledModel, type RunReport } from '../node/ai';
import { decodeFrames } from '../node/dicom/decode';
import { Task } from '../node/tasks';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { openServices } from './services';
import { print, table } from './output';
import { unlock, withLedger } from './ledger';
import { identityOf } from '../node/ai/dicom-input';
import { parseDicomBytes } from '../node/dicom/parse';
import type { AiSidecar } from '../node/ai';

/** Opens the app-data folder and wires the AI domain from it (the CLI's composition root for AI). */
async function withAi<T>(home: string, threads: number | undefined, fn: (ai: AiService) => Promise<T>): Promise<T> {
  const s = await openServices({ home, ledger: { mode: 'none' } });
  const ai = createAi({ db: s.db, appDataDir: s.home.root, log: s.log, decode: decodeFrames, inspect: inspectModel, computePixelDigest, threads });
  try {
    return await fn(ai);
  } finally {
    await ai.close();
    await s.close();
  }
}

const pct = (p: number) => `${(p * 100).toFixed(1)} %`;
const short = (id: string) => id.slice(0, 12);

function modelLines(m: InstalledModel): string[] {
  return [
    `${m.name} ${m.version}  (id ${short(m.id)})`,
    `  intended use: ${m.card.intendedUse}`,
    `  accepts: ${m.card.accepts.modalities.join('/')}${m.card.accepts.bodyParts.length ? ' ' + m.card.accepts.bodyParts.join('/') : ''}${m.card.accepts.viewPositions.length ? ' ' + m.card.accepts.viewPositions.join('/') : ''}, at least ${m.card.accepts.minColumns}×${m.card.accepts.minRows}`,
    `  input: ${m.card.input.channels}×${m.card.input.height}×${m.card.input.width} '${m.card.input.name}'; labels: ${m.card.output.labels.map((l) => `${l.name} (threshold ${l.threshold})`).join(', ')}${m.card.heatMap ? `; heat map '${m.card.heatMap.name}'` : ''}`,
    `  licence: ${m.card.licence}`,
    `  model SHA-256 ${m.modelSha256}`,
    `  card  SHA-256 ${m.cardSha256}`,
  ];
}

function findingRows(findings: Finding[]): string[][] {
  return findings.map((f) => [`  ${f.label}`, pct(f.probability), `threshold ${pct(f.threshold)}`, f.present ? 'ABOVE threshold' : 'below threshold']);
}

function humanRun(r: RunReport): string {
  const lines = [AI_DISCLAIMER, ''];
  for (const x of r.results) {
    lines.push(`${x.filePath}  (${x.model.name} ${x.model.version})`, table(findingRows(x.findings)));
    if (x.heatMap) lines.push(`  heat map ${x.heatMap.width}×${x.heatMap.height}${x.heatMap.label ? ` for ${x.heatMap.label}` : ''}`);
    lines.push(`  image pixel digest ${x.pixelSha256.slice(0, 16)}… · ${x.preprocessing} · window ${x.window.center}/${x.window.width} (${x.window.source})${x.window.inverted ? ', MONOCHROME1 inverted' : ''}`);
  }
  if (r.skipped.length) lines.push('', 'skipped (not accepted by the model):', ...r.skipped.map((s) => `  ${s.path}: ${s.reason}`));
  if (r.failed.length) lines.push('', 'failed:', ...r.failed.map((f) => `  ${f.path}: ${f.code}: ${f.message}`));
  lines.push('', `${r.results.length} result(s), ${r.skipped.length} skipped, ${r.failed.length} failed${r.cancelled ? ', CANCELLED' : ''}.`);
  return lines.join('\n');
}

function humanFindings(rs: AssessedResult[]): string {
  if (rs.length === 0) return 'No AI results for this image or study (run `medimgshr model run` first).';
  const lines = [AI_DISCLAIMER, ''];
  for (const x of rs) {
    const state = x.freshness.state === 'current' ? 'current' : `STALE: ${x.freshness.reasons.join('; ')}`;
    lines.push(`${x.filePath}  (${x.model.name} ${x.model.version}, ${x.createdAt})  ${state}`, table(findingRows(x.findings)));
  }
  return lines.join('\n');
}

export function registerModel(program: Command): void {
  const model = program
    .command('model')
    .description(
      `AI models supplied by the clinic (ONNX + model card; see docs/ai.md). ${AI_DISCLAIMER}. ` +
        'MedImgShr ships no model; a result is always bound to the image\'s pixel digest and the model\'s SHA-256.',
    );

  model
    .command('add')
    .argument('<folder>', 'a folder with model.onnx and card.json')
    .description('validate the card, load the model once to check its inputs/outputs against the card, and install it')
    .action(async (folder: string, _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withAi(home, 0, async (ai) => {
        const { model: m, alreadyInstalled } = await ai.registry.install(resolve(folder));
        print(json, { model: m, alreadyInstalled }, () => [alreadyInstalled ? 'Already installed:' : 'Installed:', ...modelLines(m)].join('\n'));
      });
    });

  model
    .command('list')
    .description('list the installed models')
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withAi(home, 0, async (ai) => {
        const list = ai.registry.list();
        print(json, { models: list }, () =>
          list.length === 0
            ? 'No AI model is installed. Add one with `medimgshr model add <folder>` (docs/ai.md).'
            : list.map((m) => modelLines(m).join('\n')).join('\n\n'),
        );
      });
    });

  model
    .command('remove')
    .argument('<id>', 'the model id (or its first 6+ hex digits)')
    .description('uninstall a model; its results stay and are reported stale')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withAi(home, 0, async (ai) => {
        const m = ai.registry.remove(id);
        print(json, { removed: m }, () => `Removed ${m.name} ${m.version} (id ${short(m.id)}). Its results are kept and now reported stale.`);
      });
    });

  model
    .command('run')
    .argument('[files...]', 'DICOM files')
    .option('--study <uid>', 'every file of this study in the library')
    .option('--model <id>', 'only this installed model (default: every installed model)')
    .option('--threads <n>', '0 = run in this thread instead of a worker thread')
    .description(`run the installed model(s) on images; each result is stored with its provenance. ${AI_DISCLAIMER}.`)
    .action(async (files: string[], o: { study?: string; model?: string; threads?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (!o.study && files.length === 0) throw new AppError(ErrorCode.InvalidArgument, 'Give DICOM files or --study <UID>.');
      await withAi(home, o.threads === undefined ? undefined : Number(o.threads), async (ai) => {
        const task = new Task('ai', null, (e) => {
          if (!json && process.stderr.isTTY && !e.finished) process.stderr.write(`\r${e.done}/${e.total ?? '?'} `);
        });
        const stop = () => task.cancel();
        process.once('SIGINT', stop);
        try {
          const opts = { modelId: o.model, task };
          const report = o.study ? await ai.runStudy(o.study, opts) : await ai.runFiles(files.map((f) => resolve(f)), opts);
          if (!json && process.stderr.isTTY) process.stderr.write('\r');
          print(json, report, () => humanRun(report));
          if (report.failed.length || report.cancelled) process.exitCode = 1;
        } finally {
          process.removeListener('SIGINT', stop);
        }
      });
    });

  model
    .command('findings')
    .argument('[files...]', 'DICOM files')
    .option('--study <uid>', 'every result of this study')
    .description('show stored AI results and whether each is still current (image and model unchanged) or stale')
    .action(async (files: string[], o: { study?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (!o.study && files.length === 0) throw new AppError(ErrorCode.InvalidArgument, 'Give DICOM files or --study <UID>.');
      await withAi(home, 0, async (ai) => {
        const results = o.study ? (await ai.studyFindings(o.study)).results : (await Promise.all(files.map((f) => ai.fileFindings(resolve(f))))).flat();
        print(json, { disclaimer: AI_DISCLAIMER, results }, () => humanFindings(results));
      });
    });

  model
    .command('sidecar')
    .requiredOption('--study <uid>', 'the study')
    .option('--out <file>', 'write the sidecar JSON here (default: print it)')
    .description('the JSON sidecar of a study\'s current results: records, Merkle root and proofs (travels with an export)')
    .action(async (o: { study: string; out?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withAi(home, 0, async (ai) => {
        const sidecar = await ai.sidecar(o.study);
        if (o.out) {
          writeFileSync(o.out, JSON.stringify(sidecar, null, 2) + '\n');
          print(json, { written: resolve(o.out), merkleRoot: sidecar.merkleRoot, results: sidecar.results.length }, () => `Wrote ${resolve(o.out!)}: ${sidecar.results.length} result(s), Merkle root ${sidecar.merkleRoot}.`);
        } else process.stdout.write(JSON.stringify(sidecar, null, 2) + '\n');
      });
    });

  model
    .command('anchor')
    .argument('<study>', 'Study Instance UID (its record must already be on the ledger: `medimgshr anchor <study>`)')
    .option('--identity <address>', 'clinician identity that signs (default: the demo clinician)')
    .option('--passphrase-file <file>', 'passphrase of the identity (else $MEDIMG_PASSPHRASE; demo identities use the demo passphrase)')
    .option('--wait <seconds>', 'how long to wait for the transaction to be mined', '60')
    .description(
      'anchor the study\'s current AI results: ONE Merkle root of their records (image digest, model and card SHA-256, ' +
        'what the model said) beside the study\'s record, with anchorFindings. No personal data goes on chain.',
    )
    .action(async (study: string, o: { identity?: string; passphraseFile?: string; wait: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        await unlock(s, l, o);
        const r = await s.aiAnchors.anchorStudy(study, { waitMs: Number(o.wait) * 1000 });
        print(json, r, () =>
          [
            r.message,
            `  findings root ${r.findingsRoot} (${r.count} result(s)), study record ${r.studyRoot}`,
            `  delivery: ${r.delivery}${r.txHash ? `, tx ${r.txHash}` : ''}${r.block !== null ? `, block ${r.block}` : ''}${r.lastError ? ` (${r.lastError})` : ''}`,
          ].join('\n'),
        );
        if (r.delivery === 'failed') process.exitCode = 1;
      });
    });

  model
    .command('verify')
    .argument('<sidecar>', 'the AI findings sidecar (JSON) that came with the study')
    .argument('[files...]', 'the study\'s DICOM files, to check the pixels each finding is about')
    .description('verify which model said what about which image: each record against its proof and the anchored root on the ledger, and the images\' pixels')
    .action(async (sidecarPath: string, files: string[], _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as AiSidecar;
      if (sidecar.format !== 'medimgshr-ai-sidecar/1') throw new AppError(ErrorCode.InvalidArgument, `${sidecarPath} is not a MedImgShr AI findings sidecar (format ${String(sidecar.format)}).`);
      // SOP Instance UID → file, for the pixel check
      const bySop = new Map<string, string>();
      for (const f of files) {
        const b = readFileSync(resolve(f));
        const sop = identityOf(parseDicomBytes(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).dataSet).sopInstanceUid;
        if (sop) bySop.set(sop, resolve(f));
      }
      await withLedger(home, async (s) => {
        const v = await s.aiAnchors.verifySidecar(sidecar, files.length ? async (sop) => (bySop.has(sop) ? computePixelDigest(bySop.get(sop)!) : null) : undefined);
        print(json, v, () =>
          [
            AI_DISCLAIMER,
            v.message,
            ...v.results.map(
              (r) =>
                `  ${r.sopInstanceUid}  ${r.model}: ${r.findings.map((f) => `${f.label} ${pct(f.probability)} (${f.present ? 'positive' : 'negative'} at ${pct(f.threshold)})`).join(', ')}` +
                `  record ${r.recordMatches ? 'ok' : 'ALTERED'}, proof ${r.proofValid ? 'ok' : 'INVALID'}${r.proofValidOnChain === null ? '' : r.proofValidOnChain ? ' (contract agrees)' : ' (contract: INVALID)'}` +
                `${r.pixelsMatch === null ? '' : r.pixelsMatch ? ', pixels ok' : ', PIXELS CHANGED'}`,
            ),
          ].join('\n'),
        );
        if (!v.ok) process.exitCode = 1;
      });
    });
}
