import type { exportChannels } from '../../shared/api/export';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type ExportChannel = keyof typeof exportChannels;

/** The export gate and export (src/node/export). */
export function exportHandlers(s: Services): Pick<HandlerTable, ExportChannel> {
  return {
    'export.check': (r) => s.export.check(r.scope, r.format, r.png),
    'export.run': (r) => s.tasks.run('export', null, (task) => s.export.run(r, task)),
  };
}
