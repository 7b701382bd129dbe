import type { viewingChannels } from '../../shared/api/viewing';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type ViewingChannel = keyof typeof viewingChannels;

/** Hanging protocols, frames of reference and priors (src/node/viewing). */
export function viewingHandlers(s: Services): Pick<HandlerTable, ViewingChannel> {
  return {
    'hanging.list': () => s.viewing.listProtocols(),
    'hanging.save': (r) => s.viewing.saveProtocols(r.protocols),
    'hanging.reset': () => s.viewing.resetProtocols(),
    'hanging.plan': (r) => s.viewing.plan(r.studyId),
    'viewing.frameOfReference': (r) => s.viewing.frameOfReference(r.seriesId),
    'viewing.priors': (r) => s.viewing.priors(r.seriesId),
  };
}
