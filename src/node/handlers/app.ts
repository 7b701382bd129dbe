import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import { appVersion } from '../version';
import { PRODUCT_NAME } from '../../shared/product';

export function appHandlers(s: Services): Pick<HandlerTable, 'app.info' | 'task.cancel'> {
  return {
    'app.info': () => ({
      productName: PRODUCT_NAME,
      version: appVersion(),
      appHome: s.home.root,
      schemaVersion: s.schemaVersion(),
      runtime: { node: process.versions.node, electron: s.runtime.electron, chrome: s.runtime.chrome },
    }),
    'task.cancel': ({ taskId }) => ({ cancelled: s.tasks.cancel(taskId) }),
  };
}
