import { Command } from 'commander';
import { appVersion } from '../node/version';
import { registerDoctor } from './doctor';
import { registerLibrary } from './library';
import { registerFingerprint } from './fingerprint';
import { registerChain } from './chain';
import { registerLedger } from './ledger';
import { registerShare } from './share';
import { registerModel } from './model';
import { registerPacs } from './pacs';
import { registerSplit } from './split';
import { printError } from './output';

/**
 * `medimgshr`: the command-line front end over the same services as the app, for headless
 * work and for a clinic's IT person. Every command takes --json.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('medimgshr')
    .description(
      'MedImgShr from the command line: check the installation, import and fingerprint DICOM studies,\n' +
        'anchor them on the ledger and verify them. It uses the same app-data folder as the desktop app.',
    )
    .version(appVersion(), '-V, --version', 'print the version')
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--home <folder>', 'app-data folder to use (default: $MEDIMG_HOME, else the desktop app\'s folder)')
    .showHelpAfterError('(run "medimgshr --help" to see the commands)');
  registerDoctor(program);
  registerLibrary(program);
  registerFingerprint(program);
  registerChain(program);
  registerLedger(program);
  registerShare(program);
  registerModel(program);
  registerPacs(program);
  registerSplit(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) return 2;
    printError(argv.includes('--json'), err);
    return 1;
  }
}

// Run when executed directly (the bin shim requires the built bundle and calls main).
