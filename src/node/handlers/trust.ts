import type { trustChannels } from '../../shared/api/trust';
import { exportService } from '../export/service';
import { identityService } from '../identity';
import type { Services } from '../services';
import { ensureDemoPartner } from '../share/demo';
import { importKeyCard, makeKeyCard } from '../share/keys';
import { shareService } from '../share/service';
import { trustService } from '../trust';
import { historyCsv, historyPdf, writeAtomic } from '../trust/report';
import type { HandlerTable } from './dispatch';

type TrustChannel = keyof typeof trustChannels;

/** Trust panel, export gate + export, share gate / send / consent / receive, audit log (src/node/trust, export, share). */
export function trustHandlers(s: Services): Pick<HandlerTable, TrustChannel> {
  const t = () => trustService(s);
  return {
    'trust.panel': (r) => t().panel(r.studyInstanceUid, { verify: r.verify, filter: r.filter }),
    'trust.history': (r) => t().history(r.studyInstanceUid, r.filter),
    'trust.exportHistory': async (r) => {
      const panel = await t().panel(r.studyInstanceUid, { verify: r.format === 'pdf', filter: r.filter });
      const bytes = await writeAtomic(r.path, r.format === 'csv' ? historyCsv(panel.history) : await historyPdf(panel, panel.history));
      return { path: r.path, bytes, entries: panel.history.length };
    },
    'trust.institutions': () => t().institutions(),
    'export.check': async (r) => {
      const { verifications: _v, ...d } = await exportService(s).check(r.scope, r.format, r.png);
      return d;
    },
    'export.run': (r) => s.tasks.run('export', null, (task) => exportService(s).run(r, task)),
    'share.gate': (r) => shareService(s).decision(r.studyInstanceUid, r.recipient),
    'share.send': (r) => s.tasks.run('share', null, (task) => shareService(s).send(r.studyInstanceUid, r.recipient, task)),
    'share.collectConsent': (r) => shareService(s).collectConsent(r),
    'share.receive': (r) => s.tasks.run('receive', null, (task) => shareService(s).receive(r.path, task)),
    'share.keyCard': (r) => makeKeyCard(identityService(s).signer(), r.label ?? identityService(s).current()?.displayName ?? null),
    'share.importKeyCard': (r) => importKeyCard(s, r.card),
    'share.demoPartner': () => ensureDemoPartner(s),
    'audit.list': (r) => {
      const entries = t().audit.list(r);
      const total = (s.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
      return { entries, total };
    },
    'audit.verify': () => t().audit.verifyChain(),
    'audit.export': async (r) => {
      const filter = r.filter ?? {};
      const data = r.format === 'csv' ? t().audit.exportCsv(filter) : t().audit.exportJson(filter);
      const bytes = await writeAtomic(r.path, data);
      return { path: r.path, bytes, entries: t().audit.list({ ...filter, limit: filter.limit ?? 100_000 }).length };
    },
  };
}
