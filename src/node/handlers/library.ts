import type { Services } from '../services';
import type { HandlerTable } from './dispatch';
import type { libraryChannels } from '../../shared/api/library';
import { AppError, ErrorCode } from '../../shared/errors';

const notYet = (): never => {
  throw new AppError(ErrorCode.NotFound, 'not implemented yet');
};

/** Handlers of the library domain (stubs; being implemented). */
export function libraryHandlers(_s: Services): Pick<HandlerTable, keyof typeof libraryChannels> {
  return {
    'library.import': notYet,
    'library.patients': notYet,
    'library.studies': notYet,
    'library.series': notYet,
    'library.instances': notYet,
    'library.tags': notYet,
    'library.remove': notYet,
    'measurements.list': notYet,
    'measurements.save': notYet,
    'measurements.delete': notYet,
  };
}
