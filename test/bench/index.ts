/** Every benchmark `npm run bench` knows. Each domain lists its own in its *.bench.ts file. */
import type { Bench } from './harness';
import { bridgeBench } from './bridge.bench';
import { libraryBenches } from './library.bench';
import { fingerprintBenches } from './fingerprint.bench';
import { contractsBenches } from './contracts.bench';
import { viewerBenches } from './viewer.bench';
import { ledgerBenches } from './ledger.bench';
import { aiBench } from './ai.bench';
import { pacsBenches } from './pacs.bench';
import { splitBenches } from './split.bench';
import { scaleBench } from './scale.bench';
import { mprBenches } from './mpr.bench';
import { memoryBenches } from './memory.bench';

export const benches: Bench[] = [bridgeBench, ...libraryBenches, ...fingerprintBenches, ...contractsBenches, ...viewerBenches, ...ledgerBenches, ...pacsBenches, ...splitBenches, ...mprBenches, ...memoryBenches, aiBench, scaleBench];
