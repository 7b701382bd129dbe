import type { measurementsSrChannels } from '../../shared/api/measurements-sr';
import type { Services } from '../services';
import type { HandlerTable } from './dispatch';

type MeasurementsSrChannel = keyof typeof measurementsSrChannels;

/** Saved measurements as a TID 1500 Measurement Report and back (src/node/measurements-sr). */
export function measurementsSrHandlers(s: Services): Pick<HandlerTable, MeasurementsSrChannel> {
  return {
    'measurements.sr.save': (r) => s.measurementsSr.save(r),
    'measurements.sr.load': (r) => s.measurementsSr.load(r),
  };
}
