import { type ledgerChannels } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import { ledgerService } from '../ledger';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type LedgerChannel = keyof typeof ledgerChannels;

const notYet = (): never => {
  throw new AppError(ErrorCode.Unavailable, 'This ledger function is not available yet in this build.');
};

export function ledgerHandlers(s: Services): Pick<HandlerTable, LedgerChannel> {
  const l = () => ledgerService(s);
  return {
    'ledger.status': () => s.ledger.current(),
    'ledger.info': () => l().info(),
    'ledger.me': () => l().me(),
    'ledger.roles': (r) => l().roles(r.address),
    'ledger.anchor': notYet,
    'ledger.anchors': (r) => ({ anchors: l().anchorsOf(r.studyInstanceUid) }),
    'ledger.verifyStudy': notYet,
    'ledger.verifyInstances': notYet,
    'ledger.sync': async () => (await l().sync.sync()).status,
    'ledger.syncStatus': () => l().syncStatus(),
    'ledger.demoStatus': notYet,
    'ledger.setupDemo': notYet,
  };
}
