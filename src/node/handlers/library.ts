import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import type { libraryChannels } from '../../shared/api/library';

/** Handlers of the library domain: import, browser lists, tags, remove, measurements. */
export function libraryHandlers(s: Services): Pick<HandlerTable, keyof typeof libraryChannels> {
  const lib = () => s.library;
  return {
    'library.import': async ({ paths }) => {
      // Split on import: the split worker threads load while the files are indexed (Services.close stops them).
      if (s.split.settings().onImport) void s.split.startWorkers();
      const report = await s.tasks.run('import', null, (task) => lib().import(paths, task));
      if (report.added + report.updated > 0) {
        s.emit({ type: 'library-changed', reason: 'import', studyIds: report.studyIds });
        // content hashes of the new files, in the background (progress events of kind "hash")
        s.tasks.run('hash', null, (task) => lib().hashPending(task)).catch((err: unknown) => s.log.error('hashing imported files failed', err));
        // Settings → Storage → split on import: metadata part + encrypted pixel blob per image (docs/split-storage.md)
        if (s.split.settings().onImport) {
          const uids = report.studyIds.map((id) => lib().study(id).studyInstanceUid);
          s.tasks
            .run('split', null, (task) => s.split.splitStudies(uids, task))
            .then(() => s.emit({ type: 'library-changed', reason: 'import', studyIds: report.studyIds }))
            .catch((err: unknown) => s.log.error('splitting imported files failed', err));
        }
      }
      return report;
    },
    'library.patients': (q) => lib().patients(q),
    'library.studies': (q) => lib().studies(q),
    'library.series': ({ studyId }) => lib().series(studyId),
    'library.instances': ({ seriesId, source }) => lib().instances(seriesId, source),
    'library.stack': ({ seriesId, source }) => lib().stack(seriesId, source),
    'library.tags': ({ instanceId }) => lib().tags(instanceId),
    'library.remove': (target) => {
      const r = lib().remove(target);
      s.emit({ type: 'library-changed', reason: 'remove', studyIds: r.studyIds });
      return { removedStudies: r.removedStudies, removedSeries: r.removedSeries, removedInstances: r.removedInstances };
    },
    'measurements.list': (q) => ({ measurements: lib().measurements(q) }),
    'measurements.save': (m) => lib().saveMeasurement(m),
    'measurements.delete': ({ id }) => ({ deleted: lib().deleteMeasurement(id) }),
  };
}
