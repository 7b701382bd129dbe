import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import type { fingerprintChannels } from '../../shared/api/fingerprint';

/** Handlers of the fingerprint domain. */
export function fingerprintHandlers(_s: Services): Pick<HandlerTable, keyof typeof fingerprintChannels> {
  return {};
}
