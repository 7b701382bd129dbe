import type { ledgerChannels } from '../../shared/api/ledger';
import { adminAction, patientRecords } from '../ledger/admin';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type LedgerChannel = keyof typeof ledgerChannels;

/** The ledger domain (src/node/ledger): status, identity roles, anchoring, verification, sync, demo. */
export function ledgerHandlers(s: Services): Pick<HandlerTable, LedgerChannel> {
  const l = () => s.ledgerService;
  return {
    'ledger.status': () => s.ledger.current(),
    'ledger.info': () => l().info(),
    'ledger.me': () => l().me(),
    'ledger.roles': (r) => l().roles(r.address),
    'ledger.anchor': (r) =>
      s.tasks.run('anchor', null, (task) => l().anchors.anchorStudy(r.studyInstanceUid, { patient: r.patient, waitMs: r.waitMs, task })),
    'ledger.anchors': (r) => ({ anchors: l().anchorsOf(r.studyInstanceUid) }),
    'ledger.verifyStudy': (r) => l().verifier.verifyStudy(r.studyInstanceUid),
    'ledger.verifyInstances': (r) => l().verifier.verifyInstances(r),
    'ledger.sync': async () => (await l().sync.sync()).status,
    'ledger.syncStatus': () => l().syncStatus(),
    'ledger.demoStatus': () => l().demo.status(),
    'ledger.setupDemo': () => l().demo.ensure(),
    'ledger.admin': (r) => adminAction(l(), r.action, r.account),
    'ledger.patientRecords': (r) => patientRecords(l(), r.patient),
  };
}
