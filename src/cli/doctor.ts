import type { Command } from 'commander';
import { runDoctor } from '../node/doctor';
import { print, table } from './output';
import { globalOptions } from './options';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this installation: versions, the app-data folder, the database, and which external programs were found')
    .action((_opts, cmd: Command) => {
      const { json, home } = globalOptions(cmd);
      const r = runDoctor(home);
      print(json, r, () =>
        [
          `${r.app.name} ${r.app.version}`,
          `app-data folder : ${r.appHome}`,
          `database        : ${r.database.path}`,
          `schema version  : ${r.database.schemaVersion} (this app knows up to ${r.database.latestSchemaVersion}), SQLite ${r.database.sqlite}, journal ${r.database.journalMode}`,
          '',
          table([
            ['component', 'status', 'version', 'used for', 'if missing'],
            ...r.components.map((c) => [
              c.name,
              c.found ? 'found' : 'MISSING',
              c.version ?? '-',
              c.purpose,
              c.found ? '' : c.install,
            ]),
          ]),
        ].join('\n'),
      );
    });
}
