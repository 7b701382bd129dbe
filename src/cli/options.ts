import type { Command } from 'commander';
import { defaultAppHomeRoot } from '../node/app-home';

export interface GlobalOptions {
  json: boolean;
  home: string;
}

/** The options every command shares (`--json`, `--home`), wherever they were given. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { json?: boolean; home?: string };
  return { json: Boolean(o.json), home: o.home ?? defaultAppHomeRoot() };
}
