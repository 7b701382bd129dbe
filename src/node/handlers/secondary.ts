import type { secondaryChannels } from '../../shared/api/secondary';
import { checkRecordStore, openRecord, type SecondaryDeps } from '../pacs/secondary';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type SecondaryChannel = keyof typeof secondaryChannels;

/** The PACS domain's view of the ledger for secondary access: a record by its root (the CLI uses it too). */
export function secondaryDeps(s: Services): SecondaryDeps {
  return {
    db: s.db,
    pacs: s.pacs,
    ledger: {
      record: async (root) => {
        const conn = await s.ledgerService.chain.require();
        if (!(await conn.contract.hasRecord(root))) return null;
        return s.ledgerService.anchors.evidence(conn, root);
      },
    },
  };
}

/** Secondary access: a chain record → its store → retrieve → verify (src/node/pacs/secondary.ts). */
export function secondaryHandlers(s: Services): Pick<HandlerTable, SecondaryChannel> {
  const deps = () => secondaryDeps(s);
  return {
    'secondary.check': (r) => checkRecordStore(deps(), r.root),
    'secondary.openRecord': async (r) => {
      const out = await s.tasks.run('open-record', null, (task) => openRecord(deps(), r.root, { study: r.study ?? null, task }));
      // the retrieved study is in the library now: open lists refresh
      s.emit({ type: 'library-changed', reason: 'import', studyIds: [] });
      return out;
    },
  };
}
