import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import type { fingerprintChannels } from '../../shared/api/fingerprint';

/** Handlers of the fingerprint domain. Long work runs as a task (progress events, `task.cancel`). */
export function fingerprintHandlers(s: Services): Pick<HandlerTable, keyof typeof fingerprintChannels> {
  const engine = () => s.fingerprints;
  return {
    'fingerprint.files': ({ paths, force }) => s.tasks.run('fingerprint', null, (task) => engine().fingerprintPaths(paths, { task, force })),
    'fingerprint.study': ({ studyInstanceUid }) => s.tasks.run('fingerprint', null, (task) => engine().checkStudy(studyInstanceUid, task)),
    'fingerprint.get': ({ path, studyInstanceUid, proofs }) => {
      const e = engine();
      const file = path !== undefined ? e.getFile(path) : { instance: null, error: null };
      const studyUid = studyInstanceUid ?? file.instance?.studyInstanceUid ?? null;
      return { ...file, study: studyUid ? e.getStudy(studyUid, proofs ?? true) : null };
    },
    'fingerprint.compare': ({ a, b }) => engine().compare(a, b),
  };
}
