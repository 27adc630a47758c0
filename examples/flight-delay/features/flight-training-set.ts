/**
 * The flight-delay training set built through the feature store: each flight of an ingestion is an
 * entity row (origin, route, departure time) labelled "delayed more than N minutes", and gets the
 * `flight_delay` service's features as of its departure from getHistoricalFeatures. The artifact
 * keeps the columns the trainer reads today (examples/flight-delay/features/raw-training-set.ts: calendar features,
 * distance, originDelay7d, originFlights7d, origin, label) and adds every store feature by its output
 * name, as float64 with NaN for missing, which is how the trainer's imputation expects missing values.
 */
import { Table, Utf8, makeVector, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import type { Database } from '../../../src/db/client.js';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import { copyColumnsOut, literal } from '../../../src/features/bulk.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES, type TrainingSetResult } from './raw-training-set.js';
import { getHistoricalFeatures } from '../../../src/features/historical.js';
import { apply } from '../../../src/features/registry.js';
import { valueReader } from '../../../src/features/arrow-values.js';
import type { ArtifactStore } from '../../../src/artifacts/index.js';
import { computeFlightFeatures, flightDelayService, flightFeatureDefinitions } from './flights.js';

/** Every flight of an ingestion as an entity row, in departure order, with its label. */
export async function flightEntityRows(db: Database, ingestionId: string, options: { delayThresholdMinutes: number }): Promise<Table> {
  const threshold = options.delayThresholdMinutes;
  if (!Number.isInteger(threshold)) throw new ValidationError(`delayThresholdMinutes must be a whole number, got ${threshold}.`);
  const [departed, origin, destination, distance, delay] = await copyColumnsOut(
    db,
    `select departed_at, origin, destination, distance_miles::float8, delay_minutes from raw_flights where ingestion_id = ${literal(ingestionId)} order by departed_at, row_number`,
    ['timestamptz', 'text', 'text', 'float8', 'int4'],
  );
  const rows = departed!.length;
  if (rows === 0) throw new NotFoundError(`Ingestion ${ingestionId} has no flights to build a training set from.`, { ingestionId });
  const label = new Int8Array(rows);
  const delays = delay!.values as Int32Array;
  for (let i = 0; i < rows; i++) label[i] = delays[i]! > threshold ? 1 : 0;
  return new Table({
    departed_at: departed!.toVector(),
    origin: origin!.toVector(),
    destination: destination!.toVector(),
    distance: distance!.toVector(),
    label: makeVector(label),
  });
}

/** Nulls as NaN in a float64 column (what the trainer's imputation reads as missing). */
function asFloat(vector: Vector, nullAs = NaN): Float64Array {
  const read = valueReader(vector);
  const out = new Float64Array(vector.length);
  for (let i = 0; i < out.length; i++) {
    const v = read(i);
    out[i] = v === null ? nullAs : (v as number);
  }
  return out;
}

export async function buildFlightTrainingSetFromStore(
  db: Database,
  artifacts: ArtifactStore,
  ingestionId: string,
  options: { delayThresholdMinutes: number },
): Promise<TrainingSetResult & { featureService: string; featureServiceVersion: number }> {
  await apply(db, flightFeatureDefinitions);
  await computeFlightFeatures(db, ingestionId);
  const entityRows = await flightEntityRows(db, ingestionId, options);
  const training = await getHistoricalFeatures(db, { entityRows, entityTimestamp: 'departed_at', featureService: flightDelayService });

  const n = training.numRows;
  const departedAt = asFloat(training.getChild('departed_at')!);
  const hour = new Float64Array(n);
  const dayOfWeek = new Float64Array(n);
  const month = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = new Date(departedAt[i]!);
    hour[i] = d.getUTCHours();
    dayOfWeek[i] = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    month[i] = d.getUTCMonth() + 1;
  }
  const storeColumns = training.schema.fields.map((f) => f.name).filter((name) => name.includes('__'));
  const columns: Record<string, Vector> = {
    departedAt: makeVector(departedAt),
    origin: vectorFromArray(training.getChild('origin')!.toArray() as string[], new Utf8()),
    hour: makeVector(hour),
    dayOfWeek: makeVector(dayOfWeek),
    month: makeVector(month),
    distance: makeVector(asFloat(training.getChild('distance')!)),
    originDelay7d: makeVector(asFloat(training.getChild('origin_delays__mean_delay_7d')!)),
    // No row yet means no earlier flight: a true zero count (unlike a mean, which is then unknown).
    originFlights7d: makeVector(asFloat(training.getChild('origin_delays__flights_7d')!, 0)),
    label: training.getChild('label')!,
  };
  for (const name of storeColumns) columns[name] = makeVector(asFloat(training.getChild(name)!));
  const table = new Table(columns);
  const artifact = await artifacts.put(tableToIPC(table, 'file'));
  const labels = training.getChild('label')!.toArray() as Int8Array;
  return {
    ...artifact,
    rows: n,
    positives: labels.reduce((a, b) => a + b, 0),
    from: new Date(departedAt[0]!).toISOString(),
    to: new Date(departedAt[n - 1]!).toISOString(),
    // What the models consume; the other feature-service columns travel in the set for analysis.
    features: [...NUMERIC_FEATURES, ...CATEGORICAL_FEATURES],
    label: `delay > ${options.delayThresholdMinutes} min`,
    featureService: flightDelayService.name,
    featureServiceVersion: flightDelayService.version,
  };
}
