import type { Command } from 'commander';
import { runDoctor } from '../node/doctor';
import { missingComponents } from '../node/components';
import { print, table } from './output';
import { globalOptions } from './options';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this installation: versions, the app-data folder, the database, and the external programs the app and its tests use (the same list npm test checks first)')
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
          // Three columns fit 80; how to install a missing component goes on its own line below it.
          ...table([
            ['component', 'status', 'version'],
            ...r.components.map((c) => [c.name, c.found ? 'found' : c.optional ? 'absent' : 'MISSING', (c.version ?? '-').slice(0, 24)]),
          ])
            .split('\n')
            .flatMap((row, i) => {
              const c = i > 0 ? r.components[i - 1] : undefined;
              return c && !c.found ? [row, `    to install: ${c.install}`] : [row];
            }),
          ...missingComponents(r.components, 'app').map((line) => `\n${line}`),
        ].join('\n'),
      );
    });
}
