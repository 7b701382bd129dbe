import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { expandPaths } from '../node/fingerprint/engine';
import { DEMO_PASSPHRASE, type LedgerService } from '../node/ledger';
import { type Services } from '../node/services';
import type { AnchorResult, InstanceVerification, StudyVerification } from '../shared/api/ledger';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { cliSignIn, openServices } from './services';
import { settingsHandlers } from '../node/handlers/settings';
import { settingsChannels } from '../shared/api/settings';
import { print, table } from './output';

/**
 * Commands of the ledger domain: anchor, verify, and `ledger` (sync, demo, me). They use the
 * embedded ledger in the app-data folder (attaching to the app's node when the app runs), or
 * the consortium endpoint saved with `medimgshr connect` (as the app does); MEDIMG_RPC_URL overrides both.
 */

export async function withLedger<T>(home: string, fn: (s: Services, l: LedgerService) => Promise<T>): Promise<T> {
  const s = await openServices({ home, ledger: { mode: 'saved' }, ledgerService: { sync: { auto: false } } });
  try {
    const l = s.ledgerService;
    return await fn(s, l);
  } finally {
    await s.close();
  }
}

/** Unlocks the identity that signs: --identity, else the demo clinician. Passphrase: file, env, or the demo one for demo identities. */
export async function unlock(s: Services, l: LedgerService, o: { identity?: string; passphraseFile?: string }): Promise<void> {
  const ids = s.identity;
  const address = o.identity ?? l.demo.addresses().clinician;
  if (!address) {
    throw new AppError(
      ErrorCode.Locked,
      'No identity to sign with.',
      'Give --identity <address> of a clinician identity (see "medimgshr identity list"), or set up the demo with "medimgshr ledger demo".',
    );
  }
  const id = ids.get(address);
  const passphrase = o.passphraseFile
    ? readFileSync(o.passphraseFile, 'utf8').replace(/\r?\n$/, '')
    : (process.env.MEDIMG_PASSPHRASE ?? (id.demo ? DEMO_PASSPHRASE : undefined));
  if (passphrase === undefined) {
    throw new AppError(ErrorCode.InvalidArgument, 'A passphrase is needed to unlock the identity.', 'Use --passphrase-file <file> or set MEDIMG_PASSPHRASE.');
  }
  await cliSignIn(s, id.address, passphrase);
}

const UID = /^[0-9]+(\.[0-9]+)+$/;

function evidenceLine(e: { block: number | null; institution: string; clinician: string; time: string; root: string } | null): string {
  return e ? `record ${e.root.slice(0, 12)}… block ${e.block ?? '?'}, institution ${e.institution}, clinician ${e.clinician}, ${e.time}` : '';
}

function instanceRows(list: InstanceVerification[]): string {
  return table([
    ['state', 'file', 'detail'],
    ...list.map((i) => [i.state + (i.differs.length ? `: ${i.differs.join('+')}` : ''), i.path, i.message]),
  ]);
}

export function registerLedger(program: Command): void {
  program
    .command('connect')
    .argument('[rpcUrl]', 'JSON-RPC URL of the region\'s ledger node, e.g. https://ledger.region.example:8545')
    .description(
      'choose the ledger this workstation (app and CLI) uses: a consortium chain given by its JSON-RPC URL, ' +
        'chain id and MedImgShr contract address, or --embedded for the local chain in the app-data folder. ' +
        'The endpoint is checked (it answers, the chain id matches, the contract is there) before it is saved.',
    )
    .option('--chain-id <n>', 'chain id the region published for its ledger')
    .option('--contract <address>', 'address of the MedImgShr contract on that chain')
    .option('--embedded', 'use the embedded local chain again')
    .action(async (rpcUrl: string | undefined, o: { chainId?: string; contract?: string; embedded?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (!o.embedded && (!rpcUrl || !o.chainId || !o.contract)) {
        throw new AppError(ErrorCode.InvalidArgument, 'A consortium ledger needs its URL, --chain-id and --contract.', 'Or give --embedded to use the local chain.');
      }
      const s = await openServices({ home, ledger: { mode: 'none' } });
      try {
        const handlers = settingsHandlers(s);
        const request = o.embedded
          ? ({ mode: 'embedded' } as const)
          : ({ mode: 'remote', rpcUrl: rpcUrl!, chainId: Number(o.chainId), contractAddress: o.contract! } as const);
        const parsed = settingsChannels['settings.ledger.set'].request.safeParse(request);
        if (!parsed.success) throw new AppError(ErrorCode.InvalidArgument, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        const r = await handlers['settings.ledger.set'](parsed.data, { sender: { url: 'cli', trusted: true } });
        print(json, r, () =>
          r.settings.mode === 'embedded'
            ? 'This workstation now uses the embedded local ledger.'
            : `This workstation now uses chain ${r.settings.chainId} at ${r.settings.rpcUrl} (contract ${r.settings.contractAddress}): ${r.status.state}.`,
        );
      } finally {
        await s.close();
      }
    });
  program
    .command('anchor')
    .argument('<targets...>', 'Study Instance UIDs of imported studies, or DICOM files/folders')
    .description(
      'record studies on the ledger: fingerprint every image, build the study\'s Merkle root and send ONE ' +
        'transaction per study through the outbox (idempotent by root: anchoring again changes nothing). ' +
        'Signed by a clinician identity (--identity, default: the demo clinician). When the ledger is down ' +
        'the anchor is queued and sent the next time the app or the CLI runs with the ledger up.',
    )
    .option('--identity <address>', 'clinician identity that signs (default: the demo clinician)')
    .option('--passphrase-file <file>', 'passphrase of the identity (else $MEDIMG_PASSPHRASE; demo identities use the demo passphrase)')
    .option('--patient <address>', 'pseudonymous patient account (default: the account linked to the study\'s patient)')
    .option('--wait <seconds>', 'how long to wait for the transaction to be mined', '60')
    .action(async (targets: string[], o: { identity?: string; passphraseFile?: string; patient?: string; wait: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        await unlock(s, l, o);
        const studies = await resolveStudies(s, targets);
        const results: AnchorResult[] = [];
        for (const uid of studies) {
          results.push(await s.tasks.run('anchor', null, (task) => l.anchors.anchorStudy(uid, { patient: o.patient, waitMs: Number(o.wait) * 1000, task })));
        }
        print(json, { results }, () =>
          results
            .map((r) =>
              [
                `study ${r.anchor.studyInstanceUid}: ${r.message}`,
                `  root ${r.anchor.root} (${r.anchor.leafCount} images), storage ${r.anchor.storageUri}`,
                r.record ? `  ${evidenceLine(r.record)}` : `  delivery: ${r.anchor.delivery}${r.anchor.lastError ? ` (${r.anchor.lastError})` : ''}`,
                ...r.failed.map((f) => `  not included: ${f.path}: ${f.message}`),
              ].join('\n'),
            )
            .join('\n'),
        );
        if (results.some((r) => r.anchor.delivery === 'failed')) process.exitCode = 1;
      });
    });

  program
    .command('verify')
    .argument('<targets...>', 'DICOM files/folders, or Study Instance UIDs of imported studies')
    .description(
      'check images against the ledger. Each image is one of: verified (its fingerprint is in a record on ' +
        'the ledger, checked now), altered (pixels and/or metadata differ from the anchored record), ' +
        'not-registered (no record covers it), ledger-unreachable (the ledger could not be asked: never ' +
        '"verified" then), unreadable. Exit code 0 only when every image is verified.',
    )
    .action(async (targets: string[], _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (_s, l) => {
        const studies: StudyVerification[] = [];
        const paths: string[] = [];
        for (const t of targets) {
          if (!existsSync(t) && UID.test(t)) studies.push(await l.verifier.verifyStudy(t));
          else paths.push(t);
        }
        let instances: InstanceVerification[] = [];
        if (paths.length) {
          const { files, errors } = expandPaths(paths);
          instances = (await l.verifier.verifyInstances({ paths: files })).instances;
          for (const e of errors) {
            instances.push({
              instanceId: null, path: e.path, sopInstanceUid: null, studyInstanceUid: null, state: 'unreadable', message: e.message, evidence: null,
              differs: [], actual: null, expected: null, provenOnChain: false, cachedDigests: false, checkedAt: new Date().toISOString(),
            });
          }
        }
        const all = [...studies.flatMap((st) => st.instances), ...instances];
        print(json, { studies, instances }, () => {
          const lines: string[] = [];
          for (const st of studies) lines.push(`study ${st.studyInstanceUid}: ${st.state} — ${st.message}`, evidenceLine(st.record), instanceRows(st.instances), '');
          if (instances.length) lines.push(instanceRows(instances));
          const verified = all.filter((i) => i.state === 'verified').length;
          lines.push(`${verified} of ${all.length} image(s) verified.`);
          return lines.join('\n');
        });
        if (all.length === 0 || all.some((i) => i.state !== 'verified')) process.exitCode = 1;
      });
    });

  const ledger = program.command('ledger').summary('sync chain events, set up the demo, show this identity\'s roles').description('the ledger: sync chain events, the demo setup, the current identity\'s roles');

  ledger
    .command('sync')
    .description('send what the outbox still holds (e.g. anchors queued while the ledger was down) and sync chain events into the local database')
    .option('--wait <seconds>', 'how long to wait for queued writes', '30')
    .option('--identity <address>', 'identity that signs queued writes (default: the demo clinician, if any)')
    .option('--passphrase-file <file>', 'passphrase of the identity')
    .action(async (o: { wait: string; identity?: string; passphraseFile?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        if (o.identity || l.demo.addresses().clinician) await unlock(s, l, o).catch(() => undefined);
        const outbox = await l.outbox.drain(Number(o.wait) * 1000);
        const pass = await l.sync.sync();
        print(json, { outbox, sync: pass.status, newEvents: pass.newEvents, reset: pass.reset }, () =>
          [
            `outbox: ${outbox.confirmed} confirmed, ${outbox.queued} queued, ${outbox.sent} sent, ${outbox.failed} failed`,
            `synced to block ${pass.status.lastSyncedBlock ?? '-'} (${pass.newEvents} new events, ${pass.status.events} in total)${pass.reset ? '; a chain rollback was detected and resynced' : ''}`,
            pass.status.lastError ? `last error: ${pass.status.lastError}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      });
    });

  ledger
    .command('demo')
    .description(
      `set up the DEMO on the embedded ledger (idempotent): a regulator, an institution, a clinician and a patient ` +
        `identity (passphrase "${DEMO_PASSPHRASE}", cheap keystores: demo only), their roles on chain, and a synthetic ` +
        'CT study imported into the library',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (_s, l) => {
        const st = await l.demo.ensure();
        print(json, st, () =>
          [st.message, ...st.identities.map((i) => `  ${i.role.padEnd(11)} ${i.address}  ${i.displayName}${i.onChain ? '' : ' (role missing on chain)'}`), st.study ? `  study ${st.study.studyInstanceUid} (${st.study.files} files in ${st.study.folder})` : ''].join('\n'),
        );
      });
    });

  ledger
    .command('me')
    .description('the roles an identity holds on the ledger (read from the chain)')
    .argument('<address>', 'an account address')
    .action(async (address: string, _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (_s, l) => {
        const r = await l.roles(address);
        const roles = (['regulator', 'institution', 'clinician', 'patient'] as const).filter((k) => r[k]);
        print(json, r, () => `${r.address}: ${roles.length ? roles.join(', ') : 'no role'}${r.clinicianOf ? ` (clinician of ${r.clinicianOf})` : ''}${r.score !== null ? `, score ${r.score}` : ''}${r.suspended ? ', SUSPENDED' : ''}`);
      });
    });
}

/** Study UIDs from the targets: UIDs as given; files/folders are fingerprinted and grouped by study. */
async function resolveStudies(s: Services, targets: string[]): Promise<string[]> {
  const out: string[] = [];
  const paths: string[] = [];
  for (const t of targets) {
    if (!existsSync(t) && UID.test(t)) out.push(t);
    else paths.push(t);
  }
  if (paths.length) {
    const run = await s.fingerprints.fingerprintPaths(paths);
    const uids = [...new Set(run.instances.map((i) => i.studyInstanceUid).filter((u): u is string => Boolean(u)))];
    if (uids.length === 0) {
      throw new AppError(ErrorCode.NotDicom, 'None of the given files is a DICOM image that can be anchored.', run.errors[0] ? `First problem: ${run.errors[0].path}: ${run.errors[0].message}` : undefined);
    }
    out.push(...uids);
  }
  return [...new Set(out)];
}
