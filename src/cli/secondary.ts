/**
 * Secondary access from the command line (docs/pacs.md § Secondary access):
 *   medimgshr open-record <root> [--study <uid>]   record on chain → its store → retrieve → verify
 *   medimgshr anchor-store [<connection> | --clear] which storage URI new anchors carry
 */
import type { Command } from 'commander';
import { LedgerSettings } from '../node/ledger/settings';
import { openRecord, storageUriOf, type OpenRecordResult } from '../node/pacs/secondary';
import { secondaryDeps } from '../node/handlers/secondary';
import { globalOptions } from './options';
import { openServices } from './services';
import { print } from './output';

function human(r: OpenRecordResult): string {
  const lines = [
    r.message,
    `  record   ${r.root} — ${r.record.leafCount} image(s), anchored ${r.record.time} by ${r.record.clinician} for ${r.record.institution}`,
    `  store    ${r.store.uri} → connection "${r.store.connection}"`,
    `  study    ${r.studyInstanceUid} (${r.studyFrom === 'caller' ? 'given with --study' : "this workstation's anchor of the root"})`,
    `  fetched  ${r.retrieved.received} of ${r.retrieved.listed} (${r.retrieved.failed} failed) by ${r.retrieved.via} in ${r.retrieved.seconds.toFixed(1)} s`,
  ];
  const v = Object.entries(r.verification);
  if (v.length) lines.push(`  per image ${v.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  for (const i of r.instances.filter((x) => x.verification === 'altered')) lines.push(`    ${i.sopInstanceUid}: altered (${i.differs.join(', ')})`);
  return lines.join('\n');
}

export function registerSecondary(program: Command): void {
  program
    .command('open-record')
    .summary('retrieve a study from the store its ledger record names, and verify it against that record')
    .description(
      'secondary access ("address first, then file"): read a study record on the ledger, resolve its storage URI to a ' +
        'configured PACS connection, retrieve the study from there and verify it against that record. ' +
        'Exit code 0 verified, 3 altered or incomplete.',
    )
    .argument('<root>', "the record's study root (0x + 64 hex digits), as the trust panel or `medimgshr verify` shows it")
    .option('--study <uid>', 'Study Instance UID (needed when this workstation did not anchor the record: the ledger keeps no identifiers)')
    .action(async (root: string, o: { study?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const s = await openServices({ home, ledger: { mode: 'saved' }, ledgerService: { sync: { auto: false } } });
      try {
        const r = await s.tasks.run('open-record', null, (task) => openRecord(secondaryDeps(s), root, { study: o.study ?? null, task }));
        print(json, r, () => human(r));
        if (r.state !== 'verified') process.exitCode = 3;
      } finally {
        await s.close();
      }
    });

  program
    .command('anchor-store')
    .description(
      'the storage URI new anchors record on the ledger (where the files can be fetched): a PACS connection ' +
        '(dicomweb:<URL> or dimse:<AE>@<host>:<port>), or --clear for this institution\'s blob store (the default)',
    )
    .argument('[connection]', 'a PACS connection name (see `medimgshr pacs list`)')
    .option('--clear', 'go back to the default (medimg-blob://<institution>)')
    .action(async (name: string | undefined, o: { clear?: boolean }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const s = await openServices({ home, ledger: { mode: 'none' } });
      try {
        const settings = new LedgerSettings(s.db);
        if (o.clear) settings.set('storage-uri', null);
        else if (name) settings.set('storage-uri', storageUriOf(s.pacs.connections.get(name)));
        const uri = settings.get('storage-uri');
        print(json, { storageUri: uri }, () => (uri ? `New anchors record their files at ${uri}.` : "New anchors record this institution's blob store (medimg-blob://<institution>)."));
      } finally {
        await s.close();
      }
    });
}
