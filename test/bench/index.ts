/** Every benchmark `npm run bench` knows. Add new ones here. */
import type { Bench } from './harness';
import { bridgeBench } from './bridge.bench';

export const benches: Bench[] = [bridgeBench];
