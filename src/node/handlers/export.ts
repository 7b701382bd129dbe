import type { exportChannels } from '../../shared/api/export';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type ExportChannel = keyof typeof exportChannels;

/** The export gate and export (src/node/export). */
export function exportHandlers(s: Services): Pick<HandlerTable, ExportChannel> {
  return {
    'export.check': async (r) => {
      const { verifications: _v, ...d } = await s.export.check(r.scope, r.format, r.png);
      return d;
    },
    'export.run': (r) => s.tasks.run('export', null, (task) => s.export.run(r, task)),
  };
}
