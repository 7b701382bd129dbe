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
import { registerAudit } from './audit';
import { registerScp } from './scp';
import { registerSecondary } from './secondary';
import { registerExport } from './export';
import { registerKeyImages } from './keyimages';
import { registerMeasurements } from './measurements';
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
      'MedImgShr from the command line: check the installation, import and fingerprint DICOM studies, ' +
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
  registerAudit(program);
  registerScp(program);
  registerSecondary(program);
  registerExport(program);
  registerKeyImages(program);
  registerMeasurements(program);
  // A usage error points at the help of the command it happened in, not the whole list.
  // (And a usage error anywhere ends with exit code 2, as main() does for the top level.)
  const each = (c: Command, path: string): void => {
    c.showHelpAfterError(`(run "${path} --help" to see its arguments and options)`).exitOverride();
    for (const sub of c.commands) each(sub, `${path} ${sub.name()}`);
  };
  for (const c of program.commands) each(c, `medimgshr ${c.name()}`);
  return program;
}

/** The command name closest to `word` (edit distance), if any is close enough to be what was meant. */
export function closestCommand(word: string, names: string[]): string | null {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = d[j]!;
        d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return d[b.length]!;
  };
  let best: { name: string; d: number } | null = null;
  for (const n of names) {
    const d = n.startsWith(word) || word.startsWith(n) ? Math.min(1, distance(word, n)) : distance(word, n);
    if (!best || d < best.d) best = { name: n, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.name : null;
}

/** The first argument that is not an option (or an option's value), i.e. the command asked for. */
function commandWord(argv: string[]): string | null {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--home') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  // An unknown command: one line with the closest command, not the whole help.
  const word = commandWord(argv);
  const names = program.commands.map((c) => c.name());
  if (word !== null && word !== 'help' && !names.includes(word)) {
    const near = closestCommand(word, names);
    process.stderr.write(`medimgshr: unknown command "${word}"${near ? ` — did you mean "${near}"?` : ''} (medimgshr --help lists the commands)\n`);
    return 2;
  }
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
