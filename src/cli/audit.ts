import type { Command } from 'commander';
import { collectorView, DEFAULT_PORT, settingsFromRequest } from '../node/atna';
import type { CollectorStateView } from '../shared/api';
import { AppError, ErrorCode } from '../shared/errors';
import { globalOptions } from './options';
import { withServices } from './services';
import { print, table } from './output';

function collectorText(c: CollectorStateView): string {
  const st = c.settings;
  return [
    `syslog collector : ${st.enabled ? `${st.transport}://${st.host}:${st.port}` : 'off'}`,
    `state            : ${c.state}${c.problem ? ` (${c.problem})` : ''}`,
    st.transport === 'tls' && st.enabled ? `CA certificate   : ${st.caSubject ?? (st.hasCa ? 'stored (unreadable)' : "none (the system's CAs are used)")}` : '',
    `sent / dropped   : ${c.sent} / ${c.dropped}${c.queued ? ` (${c.queued} queued)` : ''} in this process`,
    c.lastError ? `last error       : ${c.lastError}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** `medimgshr audit`: the local audit log and the ATNA syslog collector (docs/audit.md). */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log of this workstation, and sending it to a syslog collector (IHE ATNA)');

  audit
    .command('list')
    .description('the newest audit entries: who viewed, exported, shared, received, signed in')
    .option('--action <name>', 'only this action (view, login, login.failed, export.original, share, receive, …)')
    .option('--limit <n>', 'how many entries', '50')
    .action(async (opts: { action?: string; limit: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const entries = s.trust.audit.list({ action: opts.action, limit: Math.max(1, Number(opts.limit) || 50), order: 'desc' });
        print(json, { entries }, () =>
          entries.length ? table([['#', 'when (UTC)', 'who', 'action', 'study'], ...entries.map((e) => [String(e.seq), e.at, e.actor, e.action, e.subject.study ?? ''])]) : 'No audit entries.',
        );
      });
    });

  audit
    .command('verify')
    .description('re-hash the whole audit log and say where the chain breaks (exit code 1 if it does)')
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const r = s.trust.audit.verifyChain();
        print(json, r, () => (r.ok ? `Hash chain intact: ${r.checked} entries re-hashed.` : `Hash chain broken:\n${r.problems.map((p) => `  #${p.seq} ${p.kind}: ${p.message}`).join('\n')}`));
        if (!r.ok) process.exitCode = 1;
      });
    });

  const syslog = audit
    .command('syslog')
    .description('the syslog collector every audit entry is also sent to, as a DICOM PS3.15 audit message (off by default)')
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const v = collectorView(s.atna.state());
        print(json, v, () => collectorText(v));
      });
    });

  syslog
    .command('set')
    .description('send audit messages to a collector: RFC 5424 over UDP, or over TLS (RFC 5425) checked against a CA certificate')
    .requiredOption('--host <host>', "the collector's host name or IP address")
    .option('--transport <udp|tls>', 'udp or tls', 'tls')
    .option('--port <n>', 'port (default 514 for udp, 6514 for tls)')
    .option('--ca <file>', "PEM file of the CA that signed the collector's certificate (tls)")
    .option('--no-ca', "forget a stored CA certificate (the system's CAs are used)")
    .action(async (opts: { host: string; transport: string; port?: string; ca?: string | false }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      if (opts.transport !== 'udp' && opts.transport !== 'tls') throw new AppError(ErrorCode.InvalidArgument, `--transport must be udp or tls, not "${opts.transport}".`);
      const transport = opts.transport;
      const port = opts.port === undefined ? DEFAULT_PORT[transport] : Number(opts.port);
      await withServices(home, async (s) => {
        const next = settingsFromRequest(s.atna.settings(), { enabled: true, host: opts.host, port, transport, caPath: opts.ca === false ? null : opts.ca });
        const v = collectorView(await s.atna.configure(next));
        print(json, v, () => `Saved.\n${collectorText(v)}`);
      });
    });

  syslog
    .command('off')
    .description('stop sending audit messages (the local audit log keeps recording)')
    .action(async (_o: unknown, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      await withServices(home, async (s) => {
        const v = collectorView(await s.atna.configure({ ...s.atna.settings(), enabled: false }));
        print(json, v, () => collectorText(v));
      });
    });
}
