import type { trustChannels } from '../../shared/api/trust';
import type { Services } from '../services';
import { historyCsv, historyPdf, writeAtomic } from '../trust/report';
import type { HandlerTable } from './dispatch';

type TrustChannel = keyof typeof trustChannels;

/** The trust panel (src/node/trust): credit scores, sharing history, institutions. */
export function trustHandlers(s: Services): Pick<HandlerTable, TrustChannel> {
  const t = () => s.trust;
  return {
    'trust.panel': (r) => t().panel(r.studyInstanceUid, { verify: r.verify, filter: r.filter }),
    'trust.history': (r) => t().history(r.studyInstanceUid, r.filter),
    'trust.exportHistory': async (r) => {
      const panel = await t().panel(r.studyInstanceUid, { verify: r.format === 'pdf', filter: r.filter });
      const bytes = await writeAtomic(r.path, r.format === 'csv' ? historyCsv(panel.history) : await historyPdf(panel, panel.history));
      return { path: r.path, bytes, entries: panel.history.length };
    },
    'trust.institutions': () => t().institutions(),
  };
}
