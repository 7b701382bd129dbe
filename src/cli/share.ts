import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEMO_PASSPHRASE, type LedgerService } from '../node/ledger';
import { type Services } from '../node/services';
import { importKeyCard, makeKeyCard } from '../node/ledger/public-keys';
import { historyCsv, historyPdf, writeAtomic } from '../node/trust/report';
import { KeyCard } from '../shared/api/share';
import type { GateCheck } from '../shared/api/export';
import { AppError, ErrorCode } from '../shared/errors';
import { consentById, consentStudyOf } from '../node/share/consent';
import { dateInWords, forDays } from '../shared/words';
import { globalOptions } from './options';
import { cliSignIn, openServices } from './services';
import { print, table } from './output';

/**
 * Commands of the trust and sharing domain: share (gate + package), receive, consent (the patient's
 * EIP-712 signature, submitted by the institution), share-key (key cards), trust (panel / history).
 * The ledger is the one the app uses: embedded, or saved with `medimgshr connect`; MEDIMG_RPC_URL
 * (or MEDIMG_LEDGER_URL) with MEDIMG_CONTRACT_ADDRESS overrides both.
 */

/**
 * Opens the app-data folder with its ledger. `readOnly` (share --check, consent --list, trust): the
 * outbox is stopped before any identity is unlocked, so a look sends none of the writes queued
 * earlier (anchors waiting for their clinician); only the local copy of public chain data is refreshed.
 */
async function withLedger<T>(home: string, fn: (s: Services, l: LedgerService) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  const s = await openServices({ home, ledger: { mode: 'saved' }, ledgerService: { sync: { auto: false } } });
  try {
    const l = s.ledgerService;
    if (opts.readOnly) await s.outbox.stop();
    await s.ledger.check();
    await l.sync.sync();
    return await fn(s, l);
  } finally {
    await s.close();
  }
}

function passphraseFor(s: Services, address: string, file?: string): string {
  const id = s.identity.get(address);
  const p = file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : (process.env.MEDIMG_PASSPHRASE ?? (id.demo ? DEMO_PASSPHRASE : undefined));
  if (p === undefined) throw new AppError(ErrorCode.InvalidArgument, `A passphrase is needed to unlock ${address}.`, 'Use --passphrase-file <file> or set MEDIMG_PASSPHRASE.');
  return p;
}

/** Unlocks --identity (default: the demo institution for receive/key cards, the demo clinician otherwise). */
async function unlock(s: Services, l: LedgerService, o: { identity?: string; passphraseFile?: string }, fallback: 'clinician' | 'institution'): Promise<void> {
  const address = o.identity ?? l.demo.addresses()[fallback];
  if (!address) {
    throw new AppError(ErrorCode.Locked, 'No identity to act with.', 'Give --identity <address> (see "medimgshr identity list").');
  }
  await cliSignIn(s, address, passphraseFor(s, address, o.passphraseFile));
}

const checkRows = (checks: GateCheck[]) =>
  table([['', 'check', 'finding', 'what would change it'], ...checks.map((c) => [c.ok ? 'ok' : 'NO', c.code, c.message, c.remedy ?? ''])]);

interface IdOpts {
  identity?: string;
  passphraseFile?: string;
}

export function registerShare(program: Command): void {
  program
    .command('share')
    .argument('<studyUid>', 'Study Instance UID of an imported, anchored study')
    .requiredOption('--to <institution>', 'address of the recipient institution (see "medimgshr trust institutions")')
    .option('--identity <address>', 'identity acting for the sending institution (default: the demo clinician)')
    .option('--passphrase-file <file>', 'its passphrase (else $MEDIMG_PASSPHRASE; demo identities use the demo passphrase)')
    .option('--check', 'only show the decision, do not share')
    .option('--by-metadata', 'send only the metadata parts and the instance keys (small); the recipient fetches the encrypted Pixel Data from your pixel store (docs/split-storage.md). Images not split yet are split first.')
    .description(
      'share a study with another institution. The gate checks, and shows with reasons: the ledger is ' +
        'reachable, the study has a record, every image is verified, the recipient is a registered institution ' +
        'that is not suspended and whose score is at least the contract\'s threshold (and so is yours), the ' +
        'patient consented (the contract\'s canAccess), and the recipient\'s public key is known. Allowed: the ' +
        'files are encrypted for the recipient into one package in the blob store (printed: its address and ' +
        'path). Denied: exit code 1 and what would change each failed check.',
    )
    .action(async (studyUid: string, o: IdOpts & { to: string; check?: boolean; byMetadata?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        await unlock(s, l, o, 'clinician');
        const sh = s.share;
        const decision = await sh.gate(studyUid, o.to);
        if (!decision.allowed || o.check) {
          print(json, { shared: false, decision }, () => `${decision.allowed ? 'Sharing is allowed (nothing was sent: --check).' : 'Sharing is NOT allowed.'}\n${checkRows(decision.checks)}`);
          if (!decision.allowed) process.exitCode = 1;
          return;
        }
        const r = await s.tasks.run('share', null, (task) => sh.send(studyUid, o.to, task, { byMetadata: Boolean(o.byMetadata) }));
        print(json, { shared: true, ...r }, () => [r.message, r.sent ? `what is sent: ${r.sent}` : '', r.delivery ? `how it arrives: ${r.delivery}` : '', `package: ${r.path}`, checkRows(r.decision.checks)].filter(Boolean).join('\n'));
      }, { readOnly: o.check });
    });

  program
    .command('receive')
    .argument('<package>', 'path of a share package')
    .option('--identity <address>', 'the recipient institution\'s identity (its key opens the package; default: the demo institution)')
    .option('--passphrase-file <file>', 'its passphrase (else $MEDIMG_PASSPHRASE)')
    .description(
      'open a share package as the recipient institution: decrypt it, verify every image against the ledger ' +
        '(its digests are the manifest\'s leaf, the Merkle proof reaches the record\'s root, locally and in the ' +
        'contract), record the access on the ledger (a denied attempt is recorded too), confirm integrity when ' +
        'every image matched, and index the images into the library. Exit code 0 only when all of that succeeded.',
    )
    .action(async (pkg: string, o: IdOpts, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        await unlock(s, l, o, 'institution');
        const r = await s.tasks.run('receive', null, (task) => s.share.receive(pkg, task));
        print(json, r, () => `${r.message}${r.split ? `\nrebuilt ${r.split.rebuilt} image(s) byte-identical from the pixel store ${r.split.store} (${r.split.pixelBytesFetched} bytes fetched)` : ''}\n${table([['verified', 'file', 'detail'], ...r.instances.map((i) => [i.verified ? 'yes' : 'NO', i.file, i.message])])}`);
        if (!r.verified || !r.access.granted) process.exitCode = 1;
      });
    });

  program
    .command('consent')
    .argument('[studyUid]', 'Study Instance UID of an anchored study')
    .option('--to <institution>', 'the institution the patient consents to (or whose consent is revoked)')
    .option('--patient <address>', "the patient's identity on this workstation (it signs)")
    .option('--patient-passphrase-file <file>', "the patient's passphrase (else $MEDIMG_PATIENT_PASSPHRASE; demo identities use the demo passphrase)")
    .option('--identity <address>', 'identity that submits the signed consent and pays the gas (default: the demo clinician)')
    .option('--passphrase-file <file>', 'its passphrase')
    .option('--days <n>', 'how long the consent runs, in days', '90')
    .option('--all-studies', "consent to (or revoke the consent for) all the patient's studies, not only this one")
    .option('--revoke [consentId]', 'revoke a consent: give its id (see --list), or the study with --to')
    .option('--list', "list the patient's consents (--patient) with their ids")
    .description(
      "collect the patient's consent: the patient's identity signs an EIP-712 Consent (grantConsentBySig) and your identity submits it, so the patient pays no gas. With --revoke the patient signs a revocation the same way; afterwards every share and access under that consent is refused. With --list the patient's consents are listed. The patient's key is used once, in this process.",
    )
    .action(
      async (
        studyUid: string | undefined,
        o: IdOpts & { to?: string; patient?: string; patientPassphraseFile?: string; days: string; allStudies?: boolean; revoke?: string | boolean; list?: boolean },
        cmd: Command,
      ) => {
        const { json, home } = globalOptions(cmd);
        await withLedger(home, async (s, l) => {
          const patientPassphrase = (address: string) => {
            const id = s.identity.get(address);
            const passphrase = o.patientPassphraseFile
              ? readFileSync(o.patientPassphraseFile, 'utf8').replace(/\r?\n$/, '')
              : (process.env.MEDIMG_PATIENT_PASSPHRASE ?? (id.demo ? DEMO_PASSPHRASE : undefined));
            if (passphrase === undefined) throw new AppError(ErrorCode.InvalidArgument, "The patient's passphrase is needed.", 'Use --patient-passphrase-file <file> or MEDIMG_PATIENT_PASSPHRASE.');
            return passphrase;
          };
          if (o.list) {
            if (!o.patient) throw new AppError(ErrorCode.InvalidArgument, '--list needs --patient <address>.', 'See "medimgshr identity list" for the patient identities here.');
            const r = await s.share.patientConsents(o.patient);
            print(json, r, () =>
              r.consents.length === 0
                ? `The patient ${r.patient} has no consents on the ledger.`
                : table([
                    ['id', 'institution', 'scope', 'state', 'until / revoked'],
                    ...r.consents.map((c) => [c.granted.txHash, c.institution.label ?? c.institution.address, c.scope === 'all' ? 'all studies' : 'one study', c.state, c.revokedAt ? `revoked ${dateInWords(c.revokedAt)}` : `until ${dateInWords(c.expiresAt) ?? '?'}`]),
                  ]),
            );
            return;
          }
          await unlock(s, l, o, 'clinician');
          if (o.revoke !== undefined) {
            let target: { patient: string; institution: string; study: string };
            if (typeof o.revoke === 'string') {
              target = consentById({ trust: s.trust, identity: s.identity }, o.revoke);
            } else {
              if (!studyUid || !o.to) {
                throw new AppError(ErrorCode.InvalidArgument, 'Say which consent to revoke: --revoke <consent id>, or the study and --to <institution>.', 'List the consents with "medimgshr consent --list --patient <address>".');
              }
              const st = await consentStudyOf({ trust: s.trust, identity: s.identity }, studyUid, o.allStudies ? 'all' : 'study');
              target = { patient: st.patient, institution: o.to, study: st.study };
            }
            if (o.patient && o.patient.toLowerCase() !== target.patient.toLowerCase()) {
              throw new AppError(ErrorCode.Denied, `${o.patient} is not the patient of that consent (${target.patient}).`, "Only the patient can revoke their consent.");
            }
            const r = await s.share.revokeConsent({ ...target, passphrase: patientPassphrase(target.patient), studyInstanceUid: studyUid });
            const inst = s.trust.partyFactory(null, null)(r.institution);
            print(json, { revoked: true, ...r }, () =>
              `Consent revoked: ${inst.label ?? r.institution} may no longer receive ${r.scope === 'all' ? "any of the patient's studies" : 'this study'}; every share and access under it is refused from now on (tx ${r.txHash}, block ${r.block}).`,
            );
            return;
          }
          if (!studyUid || !o.to || !o.patient) {
            throw new AppError(ErrorCode.InvalidArgument, 'A consent needs the study, --to <institution> and --patient <address>.', 'See "medimgshr consent --help".');
          }
          const days = Number(o.days);
          const r = await s.share.collectConsent({ studyInstanceUid: studyUid, recipient: o.to, patientIdentity: o.patient, passphrase: patientPassphrase(o.patient), days, scope: o.allStudies ? 'all' : 'study' });
          const inst = s.trust.partyFactory(null, null)(r.institution);
          print(json, r, () => `Consent recorded: the patient allows ${inst.label ?? r.institution} to receive ${o.allStudies ? 'all their studies' : 'this study'} ${forDays(days)}, until ${dateInWords(r.expiresAt)} (tx ${r.txHash}, block ${r.block}).`);
        }, { readOnly: Boolean(o.list) });
      },
    );

  const key = program.command('share-key').summary("institutions' public-key cards, which a sender needs to encrypt a share").description("institutions' public-key cards (a sender needs the recipient's public key to encrypt a share)");
  key
    .command('export')
    .option('--identity <address>', 'the institution identity (default: the demo institution)')
    .option('--passphrase-file <file>', 'its passphrase')
    .option('--out <file>', 'write the card to this file (else print it)')
    .option('--label <name>', 'a name for the card')
    .description('write this institution\'s key card: a signed statement its public key is recovered from')
    .action(async (o: IdOpts & { out?: string; label?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        await unlock(s, l, o, 'institution');
        const card = await makeKeyCard(s.identity.signer(), o.label ?? s.identity.current()?.displayName ?? null);
        if (o.out) writeFileSync(o.out, JSON.stringify(card, null, 2) + '\n');
        print(json, card, () => (o.out ? `Key card of ${card.address} written to ${o.out}.` : JSON.stringify(card, null, 2)));
      });
    });
  key
    .command('import')
    .argument('<file>', 'a key card file')
    .description("import a recipient institution's key card (the public key is recovered from its signature and checked)")
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const s = await openServices({ home, ledger: { mode: 'none' } });
      try {
        let raw: unknown;
        try {
          raw = JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new AppError(ErrorCode.Malformed, `The key card cannot be read: ${(err as Error).message}.`, 'Check the file.');
        }
        const parsed = KeyCard.safeParse(raw);
        if (!parsed.success) throw new AppError(ErrorCode.Malformed, 'This is not a MedImgShr key card.', 'Ask the institution for its card ("medimgshr share-key export").');
        const r = importKeyCard(s, parsed.data);
        print(json, r, () => `Public key of ${r.address} imported.`);
      } finally {
        await s.close();
      }
    });

  const trust = program.command('trust').description('the trust panel from the command line');
  trust
    .command('show')
    .argument('<studyUid>', 'Study Instance UID')
    .option('--no-verify', 'do not verify the instances now')
    .option('--identity <address>', 'identity whose institution is shown as acting')
    .option('--passphrase-file <file>', 'its passphrase')
    .option('--csv <file>', 'also write the history as CSV')
    .option('--pdf <file>', 'also write the printable PDF report')
    .summary("a study's record, consents, accesses, and the patient's credit score")
    .description("the study's record and versions, consents, accesses and denied attempts, the patient's credit score and history, thresholds")
    .action(async (studyUid: string, o: IdOpts & { verify: boolean; csv?: string; pdf?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s, l) => {
        if (o.identity) await unlock(s, l, o, 'clinician');
        const p = await s.trust.panel(studyUid, { verify: o.verify });
        if (o.csv) await writeAtomic(o.csv, historyCsv(p.history));
        if (o.pdf) await writeAtomic(o.pdf, await historyPdf(p, p.history));
        print(json, p, () =>
          [
            p.ledger.reachable ? `ledger: synced to block ${p.ledger.lastSyncedBlock} at ${p.ledger.lastSyncedAt}` : `LEDGER UNREACHABLE — ${p.ledger.message}`,
            p.patient ? `patient ${p.patient.account}: score ${p.patient.score}` : 'patient: unknown',
            p.verification ? `verification: ${p.verification.state} (${p.verification.counts.verified}/${p.verification.instances.length} verified)` : '',
            table([['time', 'what', 'detail'], ...p.history.map((h) => [h.time ?? '', h.title, h.detail])]),
          ].join('\n'),
        );
      }, { readOnly: true });
    });
  trust
    .command('institutions')
    .description("the chain's institution registry with scores and status")
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withLedger(home, async (s) => {
        const r = await s.trust.institutions();
        print(json, r, () => table([['id', 'address', 'name', 'score', 'status', 'key'], ...r.institutions.map((i) => [String(i.id), i.party.address, i.party.label ?? '', String(i.score), i.suspended ? 'suspended' : i.canReceive ? 'may receive' : 'below threshold', i.publicKeyKnown ? 'known' : 'unknown'])]));
      }, { readOnly: true });
    });
}
