/**
 * `medimgshr pacs …`: connections, test, search, retrieve, send, over the PACS domain the composition
 * root builds (`Services.pacs`); with `--no-verify` no ledger is opened, so nothing is verified.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Services, type LedgerConfig } from '../node/services';
import type { Task } from '../node/tasks';
import { PacsError, PacsReason, type Pacs, type PacsConnection, type RetrieveReport, type SendReport, type StudyQuery } from '../node/pacs';
import type { TestResult } from '../node/pacs';
import type { PacsAuth } from '../node/pacs/connections';
import { globalOptions } from './options';
import { openServices } from './services';
import { print, table } from './output';

async function withPacs<T>(home: string, ledger: LedgerConfig, fn: (p: Pacs, s: Services) => Promise<T>): Promise<T> {
  const s = await openServices({ home, ledger });
  try {
    return await fn(s.pacs, s);
  } finally {
    await s.close();
  }
}
const noLedger: LedgerConfig = { mode: 'none' };

function describeConnection(c: PacsConnection): string {
  const parts: string[] = [];
  if (c.dicomweb) parts.push(`DICOMweb ${c.dicomweb.url} (auth: ${c.dicomweb.auth}${c.dicomweb.username ? ` as ${c.dicomweb.username}` : ''}${c.dicomweb.hasSecret ? ', secret stored encrypted' : ''}${c.dicomweb.caPem ? ', own CA' : ''})`);
  if (c.dimse) parts.push(`DIMSE ${c.dimse.calledAet}@${c.dimse.host}:${c.dimse.port} (our AE title ${c.dimse.callingAet})`);
  return parts.join('; ');
}

function humanTest(r: TestResult): string {
  const lines = [`${r.connection}: ${r.ok ? 'OK' : 'FAILED'}`];
  if (r.dicomweb) lines.push(r.dicomweb.ok ? `  DICOMweb: answered a QIDO-RS query in ${r.dicomweb.ms} ms` : `  DICOMweb: ${r.dicomweb.error.message}\n    what to do: ${r.dicomweb.error.hint ?? '—'}`);
  if (r.dimse) lines.push(r.dimse.ok ? `  DIMSE: C-ECHO answered in ${r.dimse.ms} ms` : `  DIMSE: ${r.dimse.error.message}\n    what to do: ${r.dimse.error.hint ?? '—'}`);
  return lines.join('\n');
}

function humanRetrieve(r: RetrieveReport): string {
  const lines = [
    `${r.received} received, ${r.alreadyCached} already here, ${r.failed} failed of ${r.listed} listed — ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(1)} images/s, ${r.mbPerSecond.toFixed(1)} MB/s (${r.via})${r.cancelled ? ' — CANCELLED' : ''}`,
  ];
  const v = Object.entries(r.verification);
  if (v.length) lines.push(`verification: ${v.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  for (const o of r.instances.filter((i) => i.arrival === 'failed' || (i.verification && i.verification !== 'verified' && i.verification !== 'not-registered'))) {
    lines.push(`  ${o.sopInstanceUid}: ${o.arrival === 'failed' ? 'not retrieved' : o.verification}${o.differs.length ? ` (${o.differs.join(', ')})` : ''} — ${o.message ?? ''}`);
  }
  if (r.error) lines.push(`stopped: ${r.error.message}${r.error.hint ? `\n  what to do: ${r.error.hint}` : ''}`, 'Run the same command again to fetch only what is missing.');
  return lines.join('\n');
}

function humanSend(r: SendReport): string {
  const lines = [`${r.sent} sent, ${r.failed} failed — ${r.seconds.toFixed(1)} s (${r.via})${r.cancelled ? ' — CANCELLED' : ''}`];
  for (const x of r.results.filter((y) => !y.ok)) lines.push(`  ${x.path}: ${x.message}`);
  if (r.error) lines.push(`stopped: ${r.error.message}${r.error.hint ? `\n  what to do: ${r.error.hint}` : ''}`);
  return lines.join('\n');
}

const int = (v: string, what: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new PacsError(PacsReason.Invalid, `${what} must be a whole number (got "${v}").`);
  return n;
};

function todayIso(offsetDays = 0): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Progress on stderr while a task runs (people only), cancel on Ctrl-C. */
async function runTask<T>(s: Services, kind: string, json: boolean, work: (task: Task) => Promise<T>): Promise<T> {
  const show = !json && process.stderr.isTTY;
  const onEvent = (e: { type: string; kind?: string; done?: number; total?: number | null; failed?: number; label?: string | null; finished?: boolean }) => {
    if (show && e.type === 'progress' && e.kind === kind && !e.finished) process.stderr.write(`\r  ${e.done}${e.total ? `/${e.total}` : ''} images, ${e.failed} failed, ${e.label ?? ''}    `);
  };
  s.events.on('event', onEvent);
  const onSigint = () => {
    for (const t of s.tasks.list()) t.cancel();
  };
  process.once('SIGINT', onSigint);
  try {
    return await s.tasks.run(kind, null, work);
  } finally {
    process.off('SIGINT', onSigint);
    s.events.off('event', onEvent);
    if (show) process.stderr.write('\n');
  }
}

export function registerPacs(program: Command): void {
  const pacs = program
    .command('pacs')
    .description('work with a PACS (picture archive): add and test connections, search, retrieve into the library (verified against the ledger), send studies');

  pacs
    .command('add')
    .description(
      'add a PACS connection: a DICOMweb URL, DIMSE settings (host, port, AE titles), or both. ' +
        'A password or token is stored encrypted; it is never printed.',
    )
    .argument('<name>', 'a name for this PACS, e.g. "hospital"')
    .option('--url <url>', 'DICOMweb root, e.g. https://pacs.example.org/dicom-web')
    .option('--auth <kind>', 'none, basic or bearer', 'none')
    .option('--user <name>', 'user name (basic)')
    .option('--password-env <VAR>', 'read the password (basic) or token (bearer) from this environment variable')
    .option('--password-stdin', 'read the password or token from the first line of standard input')
    .option('--ca <file>', 'a CA certificate (PEM) to trust for this server, besides the system ones')
    .option('--host <host>', 'DIMSE: host name or address of the PACS')
    .option('--port <n>', 'DIMSE: port of the PACS (often 104 or 11112)')
    .option('--called-aet <AET>', "DIMSE: the PACS's AE title")
    .option('--our-aet <AET>', 'DIMSE: our AE title (as the PACS administrator registered it)', 'MEDIMGSHR')
    .option('--timeout <seconds>', 'give up on a silent server after this long', '30')
    .action(async (name: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      let secret: string | null = null;
      if (typeof o.passwordEnv === 'string') secret = process.env[o.passwordEnv] ?? null;
      if (o.passwordStdin) secret = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
      const c = await withPacs(home, noLedger, async (p) =>
        p.add({
          name,
          dicomweb: typeof o.url === 'string' ? { url: o.url, auth: o.auth as PacsAuth, username: (o.user as string) ?? null, secret, caPem: typeof o.ca === 'string' ? readFileSync(resolve(o.ca), 'utf8') : null } : null,
          dimse: typeof o.host === 'string' || typeof o.port === 'string' || typeof o.calledAet === 'string' ? { host: String(o.host ?? ''), port: int(String(o.port ?? ''), '--port'), calledAet: String(o.calledAet ?? ''), callingAet: String(o.ourAet) } : null,
          timeoutMs: Math.round(Number(o.timeout) * 1000),
        }),
      );
      print(json, c, () => `added ${c.name}: ${describeConnection(c)}\nTest it with: medimgshr pacs test ${c.name}`);
    });

  pacs
    .command('list')
    .description('list the PACS connections (passwords and tokens are never shown)')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const list = await withPacs(home, noLedger, async (p) => p.list());
      print(json, list, () => (list.length === 0 ? 'No PACS connections. Add one with: medimgshr pacs add <name> --url <DICOMweb root>' : list.map((c) => `${c.name}: ${describeConnection(c)}`).join('\n')));
    });

  pacs
    .command('remove')
    .description('remove a PACS connection (retrieved images stay in the library)')
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const removed = await withPacs(home, noLedger, async (p) => p.remove(name));
      print(json, { removed, name }, () => `removed ${name}`);
    });

  pacs
    .command('test')
    .description('check a connection: a DICOMweb query and/or a DICOM C-ECHO; says exactly what failed and what to do')
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const r = await withPacs(home, noLedger, async (p) => p.test(name));
      print(json, r, () => humanTest(r));
      if (!r.ok) process.exitCode = 1;
    });

  pacs
    .command('search')
    .description('search a PACS for studies; prints each study\'s Study Instance UID (for "pacs retrieve")')
    .argument('<name>', 'the PACS connection')
    .option('--patient <name>', 'patient name; * and ? are wildcards, e.g. "DOE^*"')
    .option('--id <patientId>', 'patient ID')
    .option('--from <date>', 'studies from this date (YYYY-MM-DD)')
    .option('--to <date>', 'studies up to this date (YYYY-MM-DD)')
    .option('--today', 'studies of today')
    .option('--days <n>', 'studies of the last n days')
    .option('--modality <m>', 'modality, e.g. CT')
    .option('--accession <n>', 'accession number')
    .option('--study <uid>', 'one Study Instance UID')
    .option('--series', 'also list the series of each study found')
    .option('--limit <n>', 'studies per page', '100')
    .option('--offset <n>', 'skip this many matches (next pages)', '0')
    .option('--via <source>', 'dicomweb (QIDO-RS) or dimse (C-FIND); default: DICOMweb when configured')
    .action(async (name: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const q: StudyQuery = {
        patientName: o.patient as string | undefined,
        patientId: o.id as string | undefined,
        dateFrom: (o.from as string | undefined) ?? (o.today ? todayIso() : o.days ? todayIso(-int(String(o.days), '--days')) : undefined),
        dateTo: (o.to as string | undefined) ?? (o.today || o.days ? todayIso() : undefined),
        modality: o.modality as string | undefined,
        accession: o.accession as string | undefined,
        studyInstanceUid: o.study as string | undefined,
        limit: int(String(o.limit), '--limit'),
        offset: int(String(o.offset), '--offset'),
      };
      const source = o.via === undefined ? undefined : o.via === 'dicomweb' || o.via === 'dimse' ? o.via : (() => { throw new PacsError(PacsReason.Invalid, '--via must be dicomweb or dimse.'); })();
      const r = await withPacs(home, noLedger, async (p) => {
        const page = await p.searchStudies(name, q, { source });
        const series = o.series ? await Promise.all(page.studies.map((st) => p.searchSeries(name, st.studyInstanceUid, { source }))) : null;
        return { ...page, studies: page.studies.map((st, i) => (series ? { ...st, series: series[i] } : st)) };
      });
      print(json, r, () => {
        if (r.studies.length === 0) return 'No study matches.';
        const rows = table([
          ['patient', 'ID', 'date', 'modalities', 'series', 'images', 'description', 'Study Instance UID'],
          ...r.studies.map((st) => [st.patientName, st.patientId, st.date ?? '', st.modalities.join('/'), String(st.seriesCount ?? ''), String(st.instanceCount ?? ''), st.description ?? '', st.studyInstanceUid]),
        ]);
        const more = r.more ? `\nmore matches: run again with --offset ${r.offset + r.limit}` : '';
        const series = r.studies
          .filter((st) => 'series' in st)
          .map((st) => `\n${st.studyInstanceUid}\n` + (st as { series: { seriesInstanceUid: string; modality: string | null; number: number | null; description: string | null; instanceCount: number | null }[] }).series.map((se) => `  #${se.number ?? ''} ${se.modality ?? ''} ${se.description ?? ''} (${se.instanceCount ?? '?'} images) ${se.seriesInstanceUid}`).join('\n'))
          .join('');
        return rows + more + series;
      });
    });

  pacs
    .command('retrieve')
    .description(
      'retrieve a study (or one series) into the library: kept in its original encoding, fingerprinted and verified ' +
        'against the ledger as it arrives. Run it again after an interruption: only what is missing is fetched.',
    )
    .argument('<name>', 'the PACS connection')
    .argument('<studyInstanceUid>')
    .option('--series <uid>', 'only this series')
    .option('--via <how>', 'wado-rs, c-get or c-move (c-move needs --scp-port; default: wado-rs when DICOMweb is configured, else c-get)')
    .option('--scp-port <n>', 'for c-move: run our Storage SCP on this port while retrieving (the PACS must know our AE title at this port)')
    .option('--refetch', 'fetch again what is already here (to check the PACS copy has not changed)')
    .option('--no-verify', 'do not verify against the ledger (the images are still fingerprinted)')
    .action(async (name: string, study: string, o: { series?: string; via?: string; scpPort?: string; verify: boolean; refetch?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (o.via && !['wado-rs', 'c-get', 'c-move'].includes(o.via)) throw new PacsError(PacsReason.Invalid, '--via must be wado-rs, c-get or c-move.');
      const r = await withPacs(home, o.verify ? { mode: 'saved' } : noLedger, async (p, s) => {
        if (o.via === 'c-move') {
          if (!o.scpPort) throw new PacsError(PacsReason.Invalid, 'c-move needs --scp-port: the port our Storage SCP listens on for the images.');
          const conn = p.connections.get(name);
          await p.startStorageScp({ aeTitle: conn.dimse?.callingAet ?? 'MEDIMGSHR', port: int(o.scpPort, '--scp-port'), allowedCallingAets: conn.dimse ? [conn.dimse.calledAet] : [] });
        }
        return runTask(s, 'pacs-retrieve', json, (task) => p.retrieve(name, { study, series: o.series ?? null, via: o.via as never, refetch: Boolean(o.refetch) }, task));
      });
      print(json, r, () => humanRetrieve(r));
      if (r.error || r.failed > 0) process.exitCode = 1;
    });

  pacs
    .command('send')
    .description('send a study from the library (or DICOM files) to a PACS, by STOW-RS or C-STORE; a result per image')
    .argument('<name>', 'the PACS connection')
    .argument('[files...]', 'DICOM files to send (instead of --study)')
    .option('--study <uid>', 'send every image of this study in the library')
    .option('--via <how>', 'stow-rs or c-store (default: stow-rs when DICOMweb is configured)')
    .action(async (name: string, files: string[], o: { study?: string; via?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (o.via && !['stow-rs', 'c-store'].includes(o.via)) throw new PacsError(PacsReason.Invalid, '--via must be stow-rs or c-store.');
      const r = await withPacs(home, noLedger, async (p, s) => {
        let paths = files.map((f) => resolve(f));
        if (o.study) {
          paths = (
            s.db
              .prepare('SELECT i.file_path FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL ORDER BY se.number, i.number')
              .all(o.study) as { file_path: string }[]
          ).map((x) => x.file_path);
          if (paths.length === 0) throw new PacsError(PacsReason.Invalid, `Study ${o.study} is not in the library.`, 'Import it first, or give the files.');
        }
        if (paths.length === 0) throw new PacsError(PacsReason.Invalid, 'Nothing to send.', 'Give --study <uid> or DICOM files.');
        return runTask(s, 'pacs-send', json, (task) => p.send(name, paths, task, o.via as never));
      });
      print(json, r, () => humanSend(r));
      if (r.error || r.failed > 0) process.exitCode = 1;
    });
}
