/**
 * Builds the training set through the feature store: the daily observations go into the
 * `daily_weather` view's offline table (idempotent: the same rows are written once), and each day's
 * label, "does it rain tomorrow?", is joined point-in-time correct to the features known when the
 * day ended. A day's own features never include anything from the day it predicts.
 */
import { Bool, Float64, Table, TimestampMillisecond, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { defineStep, artifactDataset, featureViewDataset, rowCountFacets, ValidationError, z } from 'steward';
import { getTable, putTable, readTimes } from 'steward/data';
import { createFeatureStore, tableSource } from 'steward/features';
import { dailyWeather, features, rainForecast } from '../features.js';

const DAY = 86_400_000;

/** The label column of the training set. */
export const LABEL = 'rain_tomorrow';

export const buildTrainingSet = defineStep({
  name: 'weather.trainingSet',
  version: '1',
  description: 'Write daily features to the feature store and join each day to whether it rained the next day',
  input: z.object({
    datasetUri: z.string(),
    /** The station the observations come from (the entity key). */
    station: z.string().default('SEA'),
  }),
  output: z.object({
    trainingSetUri: z.string(),
    trainingSetSha256: z.string(),
    rows: z.number().int(),
    /** Days followed by a day with rain. */
    positives: z.number().int(),
    featureService: z.string(),
    ingestionId: z.number().int(),
  }),
  // Writes to the offline store and reads through PGlite on the worker's thread: give it room.
  heartbeatTimeout: '2 minutes',
  async run(input, ctx) {
    const weather = await getTable(ctx.artifacts, input.datasetUri);
    const times = readTimes(weather.getChild('date')!);
    const order = Array.from(times.keys()).sort((a, b) => times[a]! - times[b]!);
    const days = order.length;
    const column = (name: string) => {
      const vector = weather.getChild(name)!;
      return order.map((i) => vector.get(i) as number | string | null);
    };
    const dates = order.map((i) => times[i]!);
    const precipitation = column('precipitation') as Array<number | null>;
    for (let i = 1; i < days; i++) {
      if (dates[i]! - dates[i - 1]! !== DAY) throw new ValidationError(`The weather has a gap or a repeated day before ${new Date(dates[i]!).toISOString().slice(0, 10)}; one row per day is expected.`);
    }

    // 1. The feature rows: each day's observations, stamped at the end of that day.
    const precipitation3d = precipitation.map((_, i) => {
      const window = precipitation.slice(Math.max(0, i - 2), i + 1);
      return window.some((p) => p === null) ? null : window.reduce<number>((a, b) => a + (b ?? 0), 0);
    });
    const featureRows = new Table({
      station: vectorFromArray(dates.map(() => input.station), new Utf8()),
      observed_at: vectorFromArray(dates.map((d) => new Date(d + DAY)), new TimestampMillisecond() as DataType),
      precipitation: vectorFromArray(precipitation, new Float64()),
      precipitation_3d: vectorFromArray(precipitation3d, new Float64()),
      temp_max: vectorFromArray(column('temp_max'), new Float64()),
      temp_min: vectorFromArray(column('temp_min'), new Float64()),
      wind: vectorFromArray(column('wind'), new Float64()),
      weather: vectorFromArray(column('weather'), new Utf8()),
      month: vectorFromArray(dates.map((d) => String(new Date(d).getUTCMonth() + 1).padStart(2, '0')), new Utf8()),
    });
    const store = createFeatureStore(ctx.db, features);
    await store.apply();
    ctx.progress({ stage: 'ingest', rows: days });
    const ingestion = await store.ingest(dailyWeather.name, tableSource(featureRows, { description: `weather of ${input.station} (${input.datasetUri})` }));

    // 2. The questions: at the start of each day but the first, will it rain that day? Asked at
    // midnight, they see the feature row of the day before (stamped at that same midnight).
    const asked = dates.slice(1);
    const entityRows = new Table({
      station: vectorFromArray(asked.map(() => input.station), new Utf8()),
      asked_at: vectorFromArray(asked.map((d) => new Date(d)), new TimestampMillisecond() as DataType),
      [LABEL]: vectorFromArray(precipitation.slice(1).map((p) => (p === null ? null : p > 0)), new Bool()),
    });
    ctx.progress({ stage: 'join', rows: entityRows.numRows });
    const trainingSet = await store.getHistoricalFeatures({ entityRows, entityTimestamp: 'asked_at', featureService: rainForecast });
    const artifact = await putTable(ctx.artifacts, trainingSet);
    const labels = trainingSet.getChild(LABEL)!;
    let positives = 0;
    for (let i = 0; i < labels.length; i++) if (labels.get(i) === true) positives++;
    return { trainingSetUri: artifact.uri, trainingSetSha256: artifact.sha256, rows: trainingSet.numRows, positives, featureService: rainForecast.name, ingestionId: ingestion.ingestionId };
  },
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.datasetUri)],
    outputs: output ? [featureViewDataset(dailyWeather), artifactDataset(output.trainingSetUri, rowCountFacets(output.rows))] : [featureViewDataset(dailyWeather)],
  }),
  // A run started with an API token needs the right to train on the view (open: it is public).
  access: () => [{ permission: 'train-on', resource: `feature_view:${dailyWeather.name}`, sensitivity: 'public' }],
});
