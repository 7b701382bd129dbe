import type { inboxChannels } from '../../shared/api/inbox';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type InboxChannel = keyof typeof inboxChannels;

/** The Inbox of received share packages (src/node/share/inbox.ts); "send on" uses the PACS domain. */
export function inboxHandlers(s: Services): Pick<HandlerTable, InboxChannel> {
  return {
    'inbox.list': async () => {
      const me = s.identity.current();
      return {
        folder: s.inbox.folder,
        items: await s.inbox.list(),
        signedIn: me ? { address: me.address, displayName: me.displayName } : null,
        connections: s.pacs.list().map((c) => c.name),
      };
    },
    'inbox.add': async (r) => s.inbox.add(r.paths ?? (s.dialogs ? await s.dialogs.pickPaths('files') : [])),
    'inbox.receive': (r) => s.tasks.run('receive', null, (task) => s.inbox.receive(r.address, task)),
    'inbox.sendOn': async (r) => {
      const it = await s.inbox.item(r.address);
      const files = s.inbox.receivedFiles(it);
      const rep = await s.tasks.run('pacs-send', null, (task) => s.pacs.send(r.connection, files, task));
      s.inbox.recordSentOn(r.address, {
        connection: rep.connection,
        sent: rep.sent,
        failed: rep.failed,
        at: new Date().toISOString(),
        message: rep.error ? rep.error.message : `${rep.sent} image(s) sent to ${rep.connection} by ${rep.via}${rep.failed ? `, ${rep.failed} failed` : ''}.`,
      });
      return s.inbox.item(r.address);
    },
  };
}
