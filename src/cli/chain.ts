import type { Command } from 'commander';

/** Commands of the chain domain. */
export function registerChain(_program: Command): void {}
