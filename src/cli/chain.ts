import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { RoleHint, type IdentitySummary, type LedgerStatus } from '../shared/api';
import { AppError, ErrorCode } from '../shared/errors';
import { LedgerMonitor } from '../node/ledger/monitor';
import { Outbox } from '../node/ledger/outbox';
import { globalOptions } from './options';
import { openServices, withServices } from './services';
import { print, table } from './output';

/**
 * Commands of the chain domain: local identities (encrypted keystores) and the ledger
 * connection. Passphrases are never taken as plain arguments (they would show in the process
 * list): they come from --passphrase-file, the MEDIMG_PASSPHRASE environment variable, or a
 * hidden prompt on a terminal.
 */
export function registerChain(program: Command): void {
  const identity = program
    .command('identity')
    .description('manage the local identities (encrypted keystores) that sign ledger writes');

  identity
    .command('list')
    .description('list the identities on this workstation (name, address, role hint)')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const ids = s.identity.list();
        print(json, { identities: ids }, () =>
          ids.length === 0
            ? 'No identities yet. Create one with "medimgshr identity create --name <name>".'
            : table([
                ['address', 'name', 'role', 'created', ''],
                ...ids.map((i) => [i.address, i.displayName, i.roleHint ?? '-', i.createdAt.slice(0, 19).replace('T', ' '), i.demo ? 'demo' : '']),
              ]),
        );
      });
    });

  identity
    .command('create')
    .description('create a new identity with a random key, encrypted with a passphrase (at least 8 characters)')
    .requiredOption('--name <name>', 'display name, e.g. "Dr. Ada Lovelace"')
    .option('--role <role>', `what the identity is for: ${RoleHint.options.join(', ')}`)
    .option('--passphrase-file <file>', 'read the passphrase from this file (else $MEDIMG_PASSPHRASE, else a prompt)')
    .action(async (o: { name: string; role?: string; passphraseFile?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const roleHint = parseRole(o.role);
      const passphrase = await readPassphrase(o.passphraseFile, 'New passphrase: ');
      await withServices(home, async (s) => {
        const id = await s.identity.create({ displayName: o.name, passphrase, roleHint });
        print(json, { identity: id }, () => `Created ${describe(id)}.\nKeep the passphrase safe: without it the key cannot be used or recovered.`);
      });
    });

  identity
    .command('import')
    .summary('import an identity from a keystore file or a raw private key')
    .description('import an identity from a keystore file (Web3 Secret Storage JSON) or a file holding a raw private key')
    .requiredOption('--name <name>', 'display name')
    .option('--keystore <file>', 'keystore JSON file; the passphrase must unlock it')
    .option('--private-key-file <file>', 'file holding a private key (64 hex digits); it is encrypted with the passphrase')
    .option('--role <role>', `what the identity is for: ${RoleHint.options.join(', ')}`)
    .option('--passphrase-file <file>', 'read the passphrase from this file (else $MEDIMG_PASSPHRASE, else a prompt)')
    .action(async (o: { name: string; keystore?: string; privateKeyFile?: string; role?: string; passphraseFile?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (Boolean(o.keystore) === Boolean(o.privateKeyFile)) {
        throw new AppError(ErrorCode.InvalidArgument, 'Give either --keystore or --private-key-file.');
      }
      const roleHint = parseRole(o.role);
      const keystoreJson = o.keystore ? readText(o.keystore) : undefined;
      const privateKey = o.privateKeyFile ? readText(o.privateKeyFile).trim() : undefined;
      const passphrase = await readPassphrase(o.passphraseFile, 'Passphrase: ');
      await withServices(home, async (s) => {
        const id = await s.identity.import({ displayName: o.name, passphrase, keystoreJson, privateKey, roleHint });
        print(json, { identity: id }, () => `Imported ${describe(id)}.`);
      });
    });

  identity
    .command('export')
    .description('write an identity\'s encrypted keystore (never the raw key) to a file or to standard output')
    .argument('<address>', 'the identity\'s address (see "medimgshr identity list")')
    .option('--out <file>', 'write the keystore JSON here (default: print it)')
    .action(async (address: string, o: { out?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const ex = s.identity.exportKeystore(address);
        if (o.out) {
          writeFileSync(o.out, ex.keystoreJson, { mode: 0o600 });
          print(json, { address: ex.address, file: o.out }, () => `Wrote the encrypted keystore of ${ex.address} to ${o.out}.`);
        } else {
          print(json, ex, () => ex.keystoreJson);
        }
      });
    });

  const chain = program.command('chain').summary('the ledger connection: the embedded local chain or a remote JSON-RPC endpoint').description('the ledger: the embedded local chain or a remote JSON-RPC endpoint');
  registerChainNode(chain);
  chain
    .command('status')
    .description(
      "connect to the ledger this workstation uses and print its state: MEDIMG_RPC_URL when set, else the ledger chosen with \"medimgshr connect\", else the embedded node (started for the check, or the running app's); --rpc <url> checks that endpoint instead. Exit code 3 when the ledger does not answer.",
    )
    .option('--rpc <url>', 'check this JSON-RPC endpoint instead')
    .action(async (o: { rpc?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (o.rpc) {
        const st = await new LedgerMonitor('remote', o.rpc).check();
        print(json, { status: st, whatToDo: st.state === 'connected' ? null : unreachableAdvice('option') }, () => statusText(st, 'option'));
        if (st.state !== 'connected') process.exitCode = 3;
        return;
      }
      const s = await openServices({ home, ledger: { mode: 'saved' } });
      try {
        // A remote endpoint is polled in the background: ask it now, so the answer is this moment's.
        const st = s.embeddedNode ? s.ledger.current() : await s.ledger.check();
        const node = s.embeddedNode;
        const embedded = node
          ? { attached: node.attached, statePath: node.statePath, recovery: node.recovery }
          : null;
        // Counts only: this Outbox is never started, so the check sends nothing.
        const outbox = new Outbox({ db: s.db, log: s.log, provider: () => null, connected: () => false, signerFor: () => null }).counts();
        const source = s.ledgerSource === 'environment' ? 'environment' : 'settings';
        print(json, { status: st, source: s.ledgerSource, embedded, outbox, whatToDo: st.state === 'connected' ? null : unreachableAdvice(st.mode === 'embedded' ? 'embedded' : source) }, () =>
          [
            statusText(st, st.mode === 'embedded' ? 'embedded' : source),
            node ? `state file   : ${node.statePath}` : '',
            node ? `node         : ${node.attached ? 'run by another MedImgShr process' : 'started for this check and stopped again'}` : '',
            node?.recovery.message ? `recovery     : ${node.recovery.message}` : '',
            `outbox       : ${outbox.queued} queued, ${outbox.sent} sent, ${outbox.confirmed} confirmed, ${outbox.failed} failed`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
        if (st.state !== 'connected') process.exitCode = 3;
      } finally {
        await s.close();
      }
    });
}

/**
 * `chain node`: keeps the embedded ledger running in the foreground (for scripts and other tools
 * while the app is closed) until Ctrl-C / SIGTERM, then stops it gracefully.
 */
function registerChainNode(chain: Command): void {
  chain
    .command('node')
    .description('start the embedded local ledger and keep it running until Ctrl-C (stops it gracefully, saving its state)')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const s = await openServices({ home, ledger: { mode: 'embedded' } });
      const node = s.embeddedNode;
      const st = s.ledger.current();
      if (!node || st.state !== 'connected') {
        await s.close();
        throw new AppError(ErrorCode.LedgerUnreachable, st.message ?? 'The local ledger could not start.', 'Run "medimgshr doctor" to check that anvil is installed.');
      }
      print(json, { rpcUrl: node.rpcUrl, attached: node.attached, pid: process.pid, anvilPid: node.pid, recovery: node.recovery }, () =>
        [
          `local ledger running at ${node.rpcUrl}${node.attached ? ' (run by another MedImgShr process)' : ''}`,
          node.recovery.message ?? '',
          'press Ctrl-C to stop it',
        ]
          .filter(Boolean)
          .join('\n'),
      );
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await s.close();
    });
}

type EndpointSource = 'option' | 'environment' | 'settings' | 'embedded';

/** What to do when the ledger does not answer, by where its address came from. */
function unreachableAdvice(source: EndpointSource): string {
  switch (source) {
    case 'environment':
      return 'Start the ledger node at that address, or correct MEDIMG_RPC_URL (or unset it to use the ledger chosen with "medimgshr connect").';
    case 'settings':
      return 'Start the ledger node at that address, or choose another ledger with "medimgshr connect <url> --chain-id <n> --contract <address>" (or "medimgshr connect --embedded").';
    case 'embedded':
      return 'Run "medimgshr doctor" to check that anvil is installed and the app-data folder is writable.';
    default:
      return 'Check the address, and that the ledger node runs and is reachable from this workstation.';
  }
}

function statusText(st: LedgerStatus, source: EndpointSource): string {
  const unreachable = st.state !== 'connected';
  return [
    `ledger       : ${unreachable && st.state !== 'not-configured' ? 'UNREACHABLE' : st.state}${st.mode === 'embedded' ? ' (embedded local chain)' : ' (remote)'}`,
    `endpoint     : ${st.rpcUrl ?? '-'}${source === 'environment' ? ' (from MEDIMG_RPC_URL)' : ''}`,
    `chain id     : ${st.chainId ?? '-'}`,
    `block        : ${st.blockNumber ?? '-'}`,
    st.message ? `message      : ${st.message}` : '',
    unreachable ? `what to do   : ${unreachableAdvice(source)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function describe(id: IdentitySummary): string {
  return `"${id.displayName}" (${id.address}${id.roleHint ? `, ${id.roleHint}` : ''})`;
}

function parseRole(role: string | undefined): RoleHint | null {
  if (role === undefined) return null;
  const r = RoleHint.safeParse(role);
  if (!r.success) {
    throw new AppError(ErrorCode.InvalidArgument, `Unknown role "${role}".`, `Use one of: ${RoleHint.options.join(', ')}.`);
  }
  return r.data;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new AppError(ErrorCode.NotFound, `Cannot read ${file}.`, 'Check the path.');
  }
}

async function readPassphrase(file: string | undefined, prompt: string): Promise<string> {
  if (file) return readText(file).replace(/\r?\n$/, '');
  if (process.env.MEDIMG_PASSPHRASE) return process.env.MEDIMG_PASSPHRASE;
  if (!process.stdin.isTTY) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      'A passphrase is needed.',
      'Use --passphrase-file <file> or set MEDIMG_PASSPHRASE (or run in a terminal to be asked).',
    );
  }
  // Hidden prompt: echo nothing while typing.
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
