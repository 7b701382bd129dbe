/**
 * Child process for benchmarks that must not count the generator in their own memory (scale's
 * resident-memory row): writes the sample series given as JSON on argv[2] (an array of
 * SampleOptions) with the project's generator and prints their results as one JSON line.
 * Built by scripts/bench.mjs to dist/bench/generate-series.mjs.
 */
import { writeSampleSeries, type SampleOptions, type SampleResult } from '../../../src/node/dicom/sample';

const jobs = JSON.parse(process.argv[2] ?? '[]') as SampleOptions[];
const results: SampleResult[] = [];
for (const job of jobs) results.push(await writeSampleSeries(job));
process.stdout.write(JSON.stringify(results) + '\n');
