import type { secondaryChannels } from '../../shared/api/secondary';
import { checkRecordStore, openRecord } from '../pacs/secondary';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type SecondaryChannel = keyof typeof secondaryChannels;

/** Secondary access: a chain record → its store → retrieve → verify (src/node/pacs/secondary.ts). */
export function secondaryHandlers(s: Services): Pick<HandlerTable, SecondaryChannel> {
  const deps = () => ({ db: s.db, pacs: s.pacs, ledger: s.ledgerService });
  return {
    'secondary.check': (r) => checkRecordStore(deps(), r.root),
    'secondary.openRecord': (r) => s.tasks.run('open-record', null, (task) => openRecord(deps(), r.root, { study: r.study ?? null, task })),
  };
}
