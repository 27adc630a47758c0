/**
 * The flight-delay training set, built from ingested raw flights: calendar and route features plus
 * the origin airport's trailing 7-day delay statistics, computed point in time (only flights that
 * departed strictly before each row's own departure count), with the label "departed more than N
 * minutes late". Written as an Arrow IPC artifact; the step passes on its URI and content hash.
 */
import { sql } from 'drizzle-orm';
import { tableFromArrays, tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { queryRows, type Database } from '../../../src/db/client.js';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import type { Artifact, ArtifactStore } from '../../../src/artifacts/index.js';

export const NUMERIC_FEATURES = ['hour', 'dayOfWeek', 'month', 'distance', 'originDelay7d', 'originFlights7d'] as const;
export const CATEGORICAL_FEATURES = ['origin'] as const;

export interface TrainingSetResult extends Artifact {
  rows: number;
  positives: number;
  from: string;
  to: string;
  features: string[];
  label: string;
}

interface Row {
  departed_at: Date | string;
  origin: string;
  hour: number;
  dow: number;
  month: number;
  distance: number;
  origin_delay_7d: number | null;
  origin_flights_7d: number;
  label: number;
}

export async function buildFlightTrainingSet(
  db: Database,
  artifacts: ArtifactStore,
  ingestionId: string,
  options: { delayThresholdMinutes: number },
): Promise<TrainingSetResult> {
  const threshold = options.delayThresholdMinutes;
  if (!Number.isInteger(threshold)) throw new ValidationError(`delayThresholdMinutes must be a whole number, got ${threshold}.`);
  // The window ends 1 microsecond before the row: a flight never sees itself or anything that left at the same time or later.
  const rows = await queryRows<Row>(
    db,
    sql`
    select departed_at, origin,
      extract(hour from departed_at at time zone 'UTC')::int as hour,
      extract(isodow from departed_at at time zone 'UTC')::int as dow,
      extract(month from departed_at at time zone 'UTC')::int as month,
      distance_miles as distance,
      (avg(delay_minutes) over w)::float8 as origin_delay_7d,
      (count(*) over w)::int as origin_flights_7d,
      case when delay_minutes > ${threshold} then 1 else 0 end as label
    from raw_flights
    where ingestion_id = ${ingestionId}
    window w as (partition by origin order by departed_at range between interval '7 days' preceding and interval '1 microsecond' preceding)
    order by departed_at, row_number`,
  );
  if (rows.length === 0) throw new NotFoundError(`Ingestion ${ingestionId} has no flights to build a training set from.`, { ingestionId });

  const n = rows.length;
  const departedAt = new Float64Array(n);
  const columns = {
    hour: new Float64Array(n),
    dayOfWeek: new Float64Array(n),
    month: new Float64Array(n),
    distance: new Float64Array(n),
    originDelay7d: new Float64Array(n),
    originFlights7d: new Float64Array(n),
    label: new Int8Array(n),
  };
  const origin: string[] = new Array(n);
  let positives = 0;
  rows.forEach((r, i) => {
    departedAt[i] = new Date(r.departed_at).getTime();
    origin[i] = r.origin;
    columns.hour[i] = Number(r.hour);
    columns.dayOfWeek[i] = Number(r.dow);
    columns.month[i] = Number(r.month);
    columns.distance[i] = Number(r.distance);
    // No earlier flight in the window: missing, not zero (the model imputes it).
    columns.originDelay7d[i] = r.origin_delay_7d === null ? NaN : Number(r.origin_delay_7d);
    columns.originFlights7d[i] = Number(r.origin_flights_7d);
    columns.label[i] = Number(r.label);
    positives += columns.label[i]!;
  });
  const table = tableFromArrays({ departedAt, origin, ...columns });
  const artifact = await artifacts.put(tableToIPC(table, 'file'));
  return {
    ...artifact,
    rows: n,
    positives,
    from: new Date(departedAt[0]!).toISOString(),
    to: new Date(departedAt[n - 1]!).toISOString(),
    features: [...NUMERIC_FEATURES, ...CATEGORICAL_FEATURES],
    label: `delay > ${threshold} min`,
  };
}

export async function loadTrainingSet(artifacts: ArtifactStore, uri: string): Promise<Table> {
  return tableFromIPC(await artifacts.get(uri));
}
