/**
 * `medimgshr scp …`: our Storage SCP's saved settings (the desktop app starts it when enabled) and
 * `scp run`, which listens in the foreground for a headless workstation until Ctrl-C.
 */
import type { Command } from 'commander';
import { type Services } from '../node/services';
import type { ScpStatus, StorageScpSettings } from '../node/pacs';
import { PacsError, PacsReason } from '../node/pacs';
import { globalOptions } from './options';
import { openServices } from './services';
import { print } from './output';

async function withSettings<T>(home: string, fn: (s: Services) => T | Promise<T>): Promise<T> {
  const s = await openServices({ home, ledger: { mode: 'none' } });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function describe(st: StorageScpSettings): string {
  return [
    `Storage SCP: ${st.enabled ? 'ENABLED' : 'disabled'}`,
    `  AE title ${st.aeTitle}, port ${st.port}, listening on ${st.bindAddress}${st.bindAddress === '127.0.0.1' || st.bindAddress === '::1' ? ' (this workstation only)' : ''}`,
    `  allowed calling AE titles: ${st.allowedCallingAets.length ? st.allowedCallingAets.join(', ') : 'none (every association is rejected)'}`,
    `  anchor what arrives: ${st.anchorArrivals ? 'yes (the unlocked clinician signs)' : 'no'}`,
  ].join('\n');
}

const onOff = (v: string, what: string): boolean => {
  if (v === 'on' || v === 'yes' || v === 'true') return true;
  if (v === 'off' || v === 'no' || v === 'false') return false;
  throw new PacsError(PacsReason.Invalid, `${what} must be on or off (got "${v}").`);
};

export function registerScp(program: Command): void {
  const scp = program
    .command('scp')
    .description(
      "our Storage SCP (receive images sent by a modality or a PACS with C-STORE): its settings, which the desktop app " +
        'applies when it starts; off by default, loopback only, and only calling AE titles on the allow-list may send',
    );

  const show = (json: boolean, st: StorageScpSettings, note?: string) => print(json, st, () => describe(st) + (note ? `\n${note}` : ''));

  scp
    .command('status')
    .description('show the saved settings')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      show(json, await withSettings(home, (s) => s.pacs.scpSettings.get()));
    });

  scp
    .command('enable')
    .description('turn the Storage SCP on (the app listens from its next start; in a running app, Save in its Storage SCP settings applies at once)')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const st = await withSettings(home, (s) => s.pacs.scpSettings.update({ enabled: true }));
      show(json, st, st.allowedCallingAets.length ? undefined : 'Nobody may send yet: add a calling AE title with: medimgshr scp allow <AE title>');
    });

  scp
    .command('disable')
    .description('turn the Storage SCP off')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      show(json, await withSettings(home, (s) => s.pacs.scpSettings.update({ enabled: false })));
    });

  scp
    .command('allow')
    .description('allow a calling AE title (a modality or PACS) to send to us')
    .argument('<AE>', 'the calling AE title, as the sender is configured')
    .action(async (ae: string, _o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      show(json, await withSettings(home, (s) => s.pacs.scpSettings.update({ allowedCallingAets: [...s.pacs.scpSettings.get().allowedCallingAets, ae] })));
    });

  scp
    .command('deny')
    .description('remove a calling AE title from the allow-list')
    .argument('<AE>', 'the calling AE title')
    .action(async (ae: string, _o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      show(json, await withSettings(home, (s) => s.pacs.scpSettings.update({ allowedCallingAets: s.pacs.scpSettings.get().allowedCallingAets.filter((a) => a !== ae.trim()) })));
    });

  scp
    .command('set')
    .description('change the AE title, port, bind address or "anchor what arrives"')
    .option('--ae-title <AE>', 'our AE title (what senders call)')
    .option('--port <n>', 'TCP port (104 and 11112 are usual)')
    .option('--bind <address>', '127.0.0.1 (this workstation only), 0.0.0.0 (every interface) or one address of this machine')
    .option('--anchor-arrivals <on|off>', 'anchor each arrived study on the ledger (needs an unlocked clinician in the app)')
    .action(async (o: { aeTitle?: string; port?: string; bind?: string; anchorArrivals?: string }, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const patch: Partial<StorageScpSettings> = {};
      if (o.aeTitle !== undefined) patch.aeTitle = o.aeTitle;
      if (o.port !== undefined) patch.port = Number(o.port);
      if (o.bind !== undefined) patch.bindAddress = o.bind;
      if (o.anchorArrivals !== undefined) patch.anchorArrivals = onOff(o.anchorArrivals, '--anchor-arrivals');
      show(json, await withSettings(home, (s) => s.pacs.scpSettings.update(patch)));
    });

  scp
    .command('run')
    .description('listen in the foreground with the saved settings (even when disabled) until Ctrl-C; what arrives is imported and fingerprinted')
    .action(async (_o, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const s = await openServices({ home, ledger: { mode: 'none' } });
      try {
        const set = s.pacs.scpSettings.get();
        await s.pacs.startStorageScp({ aeTitle: set.aeTitle, port: set.port, host: set.bindAddress, allowedCallingAets: set.allowedCallingAets });
        const st: ScpStatus = s.pacs.scpStatus();
        print(json, st, () => `${describe(st.settings)}\nlistening on ${st.settings.bindAddress}:${st.port} — Ctrl-C to stop`);
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        await s.pacs.whenArrivalsSettled();
      } finally {
        await s.close();
      }
    });
}
