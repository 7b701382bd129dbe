import type { Command } from 'commander';

/** Commands of the library domain. */
export function registerLibrary(_program: Command): void {}
