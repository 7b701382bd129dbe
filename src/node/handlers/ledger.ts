import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

export function ledgerHandlers(s: Services): Pick<HandlerTable, 'ledger.status'> {
  return {
    'ledger.status': () => s.ledger.current(),
  };
}
