import type { Command } from 'commander';

/** Commands of the fingerprint domain. */
export function registerFingerprint(_program: Command): void {}
