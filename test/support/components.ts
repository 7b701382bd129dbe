/**
 * External components a test needs. Without CI a missing one skips the test with a clear
 * reason; with CI set it fails, because CI must install everything (.ci/run).
 */
import { findAnvilBinary } from '../../src/node/ledger/anvil';
import { existsSync } from 'node:fs';
import { findChromium, findOrthanc, findRsyslogd, RSYSLOG_OSSL_DRIVER } from '../../src/node/components';

export type ComponentName = 'anvil' | 'chromium' | 'orthanc' | 'rsyslog';

const finders: Record<ComponentName, () => string | null> = {
  anvil: () => findAnvilBinary(),
  chromium: () => findChromium(),
  orthanc: () => findOrthanc(),
  rsyslog: () => (existsSync(RSYSLOG_OSSL_DRIVER) ? findRsyslogd() : null),
};

/** Returns the component's path, or null (caller skips) — but throws under CI. */
export function component(name: ComponentName): string | null {
  const found = finders[name]();
  if (!found && process.env.CI) {
    throw new Error(`${name} is required when CI is set but was not found; .ci/run must install it`);
  }
  return found;
}
