import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import type { libraryChannels } from '../../shared/api/library';

/** Handlers of the library domain. */
export function libraryHandlers(_s: Services): Pick<HandlerTable, keyof typeof libraryChannels> {
  return {};
}
