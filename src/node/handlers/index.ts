/**
 * The one handler table that implements the API contract in src/shared/api. Electron's IPC
 * and the e2e rig's Playwright binding both call `dispatch` with this table.
 */
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import { appHandlers } from './app';
import { ledgerHandlers } from './ledger';
import { libraryHandlers } from './library';
import { settingsHandlers } from './settings';
import { fingerprintHandlers } from './fingerprint';
import { identityHandlers } from './identity';
import { trustHandlers } from './trust';
import { exportHandlers } from './export';
import { shareHandlers } from './share';
import { auditHandlers } from './audit';
import { pacsHandlers } from './pacs';
import { storageScpHandlers } from './storage-scp';
import { secondaryHandlers } from './secondary';
import { inboxHandlers } from './inbox';
import { aiHandlers } from './ai';
import { splitHandlers } from './split';
import { keyImageHandlers } from './keyimages';
import { measurementsSrHandlers } from './measurements-sr';
import { viewingHandlers } from './viewing';

export function createHandlerTable(s: Services): HandlerTable {
  return {
    ...appHandlers(s),
    ...ledgerHandlers(s),
    ...libraryHandlers(s),
    ...settingsHandlers(s),
    ...fingerprintHandlers(s),
    ...identityHandlers(s),
    ...trustHandlers(s),
    ...exportHandlers(s),
    ...shareHandlers(s),
    ...auditHandlers(s),
    ...pacsHandlers(s),
    ...storageScpHandlers(s),
    ...secondaryHandlers(s),
    ...inboxHandlers(s),
    ...aiHandlers(s),
    ...splitHandlers(s),
    ...keyImageHandlers(s),
    ...measurementsSrHandlers(s),
    ...viewingHandlers(s),
  };
}

export { dispatch, type HandlerTable, type Sender, type HandlerContext } from './dispatch';
