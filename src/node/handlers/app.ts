import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import { appVersion } from '../version';
import { PRODUCT_NAME } from '../../shared/product';
import { AppError, ErrorCode } from '../../shared/errors';

export function appHandlers(s: Services): Pick<HandlerTable, 'app.info' | 'app.pickPaths' | 'task.cancel'> {
  return {
    'app.info': () => ({
      productName: PRODUCT_NAME,
      version: appVersion(),
      appHome: s.home.root,
      schemaVersion: s.schemaVersion(),
      runtime: { node: process.versions.node, electron: s.runtime.electron, chrome: s.runtime.chrome },
    }),
    'app.pickPaths': async ({ mode }) => {
      if (!s.dialogs) {
        throw new AppError(ErrorCode.Unavailable, 'File dialogs are not available here.', 'Type or paste the path of the files or folder instead.');
      }
      return { paths: await s.dialogs.pickPaths(mode) };
    },
    'task.cancel': ({ taskId }) => ({ cancelled: s.tasks.cancel(taskId) }),
  };
}
