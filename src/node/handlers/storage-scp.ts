import type { storageScpChannels } from '../../shared/api/storage-scp';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type StorageScpChannel = keyof typeof storageScpChannels;

/** Our Storage SCP's settings and status (src/node/pacs/scp-settings.ts, Pacs.applyScpSettings). */
export function storageScpHandlers(s: Services): Pick<HandlerTable, StorageScpChannel> {
  return {
    'storageScp.status': () => s.pacs.scpStatus(),
    'storageScp.update': (r) => {
      s.pacs.scpSettings.update(r);
      return s.pacs.applyScpSettings();
    },
  };
}
