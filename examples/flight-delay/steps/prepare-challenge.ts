/**
 * What a challenge needs before it starts (examples/flight-delay/pipelines/drift-retrain-flight-delay.ts): how many of the
 * source's flights it trains on. Everything known before the monitored window, and nothing of it,
 * capped at `maxTrainRows`: the comparison on the window's labelled rows is then on flights neither
 * model trained on. Fewer than `minTrainRows` fails the step (and the run) before anything is
 * trained. When the policy holds it counts nothing: the challenge is skipped by its condition.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { z } from 'zod';
import { resolveSource } from '../data/flights.js';
import { ValidationError } from '../../../src/errors.js';
import { sourceDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { instant } from '../../../pipelines/steps/monitor-drift.js';

/** How many of a time-ordered flights file's first rows departed before `before` (row groups read one at a time, date column only). */
export async function flightsBefore(sourceRef: string, before: Date): Promise<number> {
  const file = await asyncBufferFromFile(resolveSource(sourceRef));
  const metadata = await parquetMetadataAsync(file);
  const cut = before.getTime();
  let count = 0;
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    let below = 0;
    await parquetRead({
      file,
      metadata,
      compressors,
      rowStart: groupStart,
      rowEnd: groupEnd,
      columns: ['date'],
      parsers: { timestampFromMicroseconds: (v: bigint) => Number(v / 1000n), timestampFromMilliseconds: (v: bigint) => Number(v) },
      onChunk: ({ columnData }) => {
        const values = columnData as ArrayLike<number | Date>;
        for (let i = 0; i < values.length; i++) if (Number(values[i]) < cut) below++;
      },
    });
    count += below;
    if (below < groupEnd - groupStart) break;
    groupStart = groupEnd;
  }
  return count;
}

export const prepareChallenge = defineStep({
  name: 'prepareChallenge',
  version: '1',
  description: 'Count the flights a challenger trains on (those before the monitored window) and check there are enough',
  input: z.object({
    /** The policy's decision: on 'hold' nothing is counted. */
    decision: z.enum(['retrain', 'hold']),
    source: z.string().min(1),
    /** The monitored window's start: the challenger trains on the flights before it. */
    windowFrom: z.string(),
    /** At most this many of the source's first rows are trained on. */
    maxTrainRows: z.number().int().positive(),
    minTrainRows: z.number().int().positive(),
  }),
  output: z.object({
    /** The rows the challenger trains on: the flights before the window, capped; 0 when the policy holds. */
    trainRows: z.number().int().min(0),
    /** Flights in the source that departed before the window; null when the policy holds (not counted). */
    flightsBeforeWindow: z.number().int().min(0).nullable(),
  }),
  // It reads the source file, which may grow.
  cache: false,
  async run(input) {
    if (input.decision !== 'retrain') return { trainRows: 0, flightsBeforeWindow: null };
    const before = await flightsBefore(input.source, instant(input.windowFrom, 'windowFrom'));
    const trainRows = Math.min(input.maxTrainRows, before);
    if (trainRows < input.minTrainRows) {
      throw new ValidationError(`Only ${trainRows} flights departed before ${input.windowFrom}; retraining needs at least ${input.minTrainRows}.`, { trainRows });
    }
    return { trainRows, flightsBeforeWindow: before };
  },
  lineage: (input) => (input.decision === 'retrain' ? { inputs: [sourceDataset(input.source)] } : {}),
});
