import type { auditChannels } from '../../shared/api/audit';
import type { Services } from '../services';
import { writeAtomic } from '../trust/report';
import type { HandlerTable } from './dispatch';
import { collectorView, settingsFromRequest } from '../atna';

type AuditChannel = keyof typeof auditChannels;

/** The local audit log (src/node/audit): list, verify the hash chain, export. */
export function auditHandlers(s: Services): Pick<HandlerTable, AuditChannel> {
  const audit = () => s.trust.audit;
  return {
    'audit.list': (r) => {
      const entries = audit().list(r);
      // Names for the accounts the entries mention (local identities, registered institutions' key cards).
      const addrs = new Set<string>();
      const visit = (v: unknown, depth: number): void => {
        if (typeof v === 'string') {
          if (/^0x[0-9a-fA-F]{40}$/.test(v)) addrs.add(v);
        } else if (v && typeof v === 'object' && depth < 3) for (const x of Object.values(v)) visit(x, depth + 1);
      };
      for (const e of entries) {
        visit(e.actor, 0);
        visit(e.details, 0);
      }
      return { entries, total: audit().count(), names: s.trust.labelsOf(addrs) };
    },
    'audit.verify': () => audit().verifyChain(),
    'audit.export': async (r) => {
      const filter = r.filter ?? {};
      const data = r.format === 'csv' ? audit().exportCsv(filter) : audit().exportJson(filter);
      const bytes = await writeAtomic(r.path, data);
      return { path: r.path, bytes, entries: audit().list({ ...filter, limit: filter.limit ?? 100_000 }).length };
    },
    'audit.studyOpened': ({ seriesId }) => s.access.viewed(s.openedStudy(seriesId)),
    'audit.syslog.get': () => collectorView(s.atna.state()),
    'audit.syslog.set': async (r) => collectorView(await s.atna.configure(settingsFromRequest(s.atna.settings(), r))),
  };
}
