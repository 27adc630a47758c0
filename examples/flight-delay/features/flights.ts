/**
 * The flight features: entities (origin airport, route), feature views of trailing-window delay
 * statistics, an on-demand delay trend, the `flight_delay` feature service, and the feature pipeline
 * that computes the views from raw flights (vega-datasets flights-3m, ingested into raw_flights).
 *
 * No leakage, by construction: a feature row stamped t describes the flights that departed in
 * [t - window, t), strictly before t. Rows are written at every instant a window's content changes:
 * 1 ms after a departure (it enters) and 1 ms after it is a window old (it leaves). Between two such
 * instants nothing changes, so the as-of join (latest row at or before a time T) gives exactly the
 * statistics of the flights in [T - window, T): the same as a SQL window `range between '7 days'
 * preceding and '1 microsecond' preceding`, and never the flight at T itself nor anything after it.
 * No row is stamped after the last flight in the data (1 ms after it), so the store never claims to
 * know about times the data does not cover.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../../../src/db/client.js';
import { copyColumnsOut, literal } from '../../../src/features/bulk.js';
import { entity, featureService, featureView, onDemandFeatureView, type FeatureValue } from '../../../src/features/definitions.js';
import { ingest, type IngestResult } from '../../../src/features/ingestion.js';
import { batchSource, type SourceBatch } from '../../../src/features/sources.js';
import { NotFoundError } from '../../../src/errors.js';

/** Bump when the computation below changes: the views' content hash includes it, so a rerun is ingested anew. */
export const FLIGHT_FEATURES_VERSION = 1;
export const DELAYED_MINUTES = 15;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const origin = entity({ name: 'origin', joinKeys: { origin: 'string' }, description: 'Departure airport (IATA code).' });
export const route = entity({ name: 'route', joinKeys: { origin: 'string', destination: 'string' }, description: 'Origin and destination airports.' });

const source = { kind: 'pipeline' as const, name: 'flight-features', description: 'computeFlightFeatures(db, ingestionId) from raw_flights' };
const tags = { sensitivity: 'public', domain: 'flights' };

export const originDelays = featureView({
  name: 'origin_delays',
  entities: [origin],
  schema: {
    flights_1h: { type: 'int32', description: 'Flights that left the airport in the trailing hour.' },
    mean_delay_1h: { type: 'float64', description: 'Their mean departure delay (minutes); null when there were none.' },
    flights_1d: 'int32',
    mean_delay_1d: 'float64',
    delayed_share_1d: { type: 'float64', description: `Share of them delayed more than ${DELAYED_MINUTES} minutes.` },
    flights_7d: 'int32',
    mean_delay_7d: 'float64',
    delayed_share_7d: 'float64',
  },
  eventTimestamp: 'as_of',
  ttl: '30d',
  source,
  owner: 'flight-ops',
  description: 'Departure delays at the origin airport over the trailing 1 hour, 1 day and 7 days (flights that left strictly before the row time).',
  tags,
});

export const routeDelays = featureView({
  name: 'route_delays',
  entities: [route],
  schema: {
    flights_7d: 'int32',
    mean_delay_7d: 'float64',
    delayed_share_7d: 'float64',
    flights_30d: 'int32',
    mean_delay_30d: 'float64',
  },
  eventTimestamp: 'as_of',
  ttl: '60d',
  source,
  owner: 'flight-ops',
  description: 'Departure delays on the route over the trailing 7 and 30 days (flights that left strictly before the row time).',
  tags,
});

const minus = (a: FeatureValue, b: FeatureValue) => (a === null || b === null ? null : (a as number) - (b as number));

export const delayTrend = onDemandFeatureView({
  name: 'delay_trend',
  inputs: { lastHour: originDelays.feature('mean_delay_1h'), lastDay: originDelays.feature('mean_delay_1d'), lastWeek: originDelays.feature('mean_delay_7d') },
  schema: { hour_vs_week: 'float64', day_vs_week: 'float64' },
  transform: ({ lastHour, lastDay, lastWeek }) => ({ hour_vs_week: minus(lastHour!, lastWeek!), day_vs_week: minus(lastDay!, lastWeek!) }),
  owner: 'flight-ops',
  description: "How much worse the origin's recent delays are than its weekly mean (minutes).",
  tags,
});

export const flightDelayService = featureService({
  name: 'flight_delay',
  version: 1,
  features: [originDelays, routeDelays, delayTrend],
  owner: 'flight-ops',
  description: 'What the flight-delay classifier reads: origin and route delay statistics and the delay trend.',
});

/** Everything `steward apply` registers for flights. */
export const flightFeatureDefinitions = [origin, route, originDelays, routeDelays, delayTrend, flightDelayService] as const;

/** Raw flights of an ingestion in departure order, as flat columns. */
export interface FlightColumns {
  rows: number;
  departedAt: Float64Array;
  delay: Int32Array;
  distance: Int32Array;
  origin: Int32Array;
  destination: Int32Array;
  airports: string[];
}

export async function readFlights(db: Database, ingestionId: string): Promise<FlightColumns> {
  const [departed, origins, destinations, delays, distances] = await copyColumnsOut(
    db,
    `select departed_at, origin, destination, delay_minutes, distance_miles from raw_flights where ingestion_id = ${literal(ingestionId)} order by departed_at, row_number`,
    ['timestamptz', 'text', 'text', 'int4', 'int4'],
  );
  const rows = departed!.length;
  if (rows === 0) throw new NotFoundError(`Ingestion ${ingestionId} has no flights.`, { ingestionId });
  const codes = new Map<string, number>();
  const code = (name: string) => {
    let id = codes.get(name);
    if (id === undefined) codes.set(name, (id = codes.size));
    return id;
  };
  const origin = new Int32Array(rows);
  const destination = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    origin[i] = code(origins!.value(i) as string);
    destination[i] = code(destinations!.value(i) as string);
  }
  return {
    rows,
    departedAt: (departed!.values as Float64Array).slice(0, rows),
    delay: (delays!.values as Int32Array).slice(0, rows),
    distance: (distances!.values as Int32Array).slice(0, rows),
    origin,
    destination,
    airports: [...codes.keys()],
  };
}

interface WindowSpec {
  /** Column name suffix, e.g. `7d`. */
  name: string;
  ms: number;
  delayedShare: boolean;
}

/**
 * Rows of trailing-window statistics per group, in time order: one at each instant some window of a
 * group changes content. Yields batches of at most `batchRows` rows, so the output never sits in
 * memory whole.
 */
async function* windowRows(
  flights: FlightColumns,
  groupOf: Int32Array,
  groupCount: number,
  keysOf: (group: number) => Record<string, string>,
  windows: readonly WindowSpec[],
  batchRows: number,
): AsyncGenerator<SourceBatch> {
  const W = windows.length;
  const { departedAt: times, delay, rows: n } = flights;
  const count = new Int32Array(groupCount * W);
  const sum = new Float64Array(groupCount * W);
  const delayed = new Int32Array(groupCount * W);
  const exitAt = new Int32Array(W);
  const touchedStamp = new Int32Array(groupCount).fill(-1);
  const touched: number[] = [];
  let stamp = 0;
  let batch = newBatch(windows, batchRows);
  let rowStart = 0;
  let entered = 0;
  const apply = (i: number, w: number, sign: 1 | -1) => {
    const g = groupOf[i]!;
    const slot = g * W + w;
    count[slot]! += sign;
    sum[slot]! += sign * delay[i]!;
    if (delay[i]! > DELAYED_MINUTES) delayed[slot]! += sign;
    if (touchedStamp[g] !== stamp) {
      touchedStamp[g] = stamp;
      touched.push(g);
    }
  };
  // Nothing is stamped after the last flight the data holds: later flights may yet arrive, so a
  // window emptying after that is not known (and online, a future-stamped row would shadow today's).
  const horizon = n > 0 ? times[n - 1]! + 1 : -Infinity;
  for (;;) {
    let t = entered < n ? times[entered]! + 1 : Infinity;
    for (let w = 0; w < W; w++) if (exitAt[w]! < entered) t = Math.min(t, times[exitAt[w]!]! + windows[w]!.ms + 1);
    if (t > horizon) break;
    stamp++;
    touched.length = 0;
    while (entered < n && times[entered]! + 1 === t) {
      for (let w = 0; w < W; w++) apply(entered, w, 1);
      entered++;
    }
    for (let w = 0; w < W; w++) {
      const span = windows[w]!.ms + 1;
      while (exitAt[w]! < entered && times[exitAt[w]!]! + span === t) apply(exitAt[w]!++, w, -1);
    }
    for (const g of touched) {
      const r = batch.length++;
      const keys = keysOf(g);
      for (const [k, v] of Object.entries(keys)) (batch.columns[k] ??= new Array<string>(batchRows))[r] = v;
      batch.columns.as_of![r] = t;
      windows.forEach((win, w) => {
        const slot = g * W + w;
        const c = count[slot]!;
        batch.columns[`flights_${win.name}`]![r] = c;
        batch.columns[`mean_delay_${win.name}`]![r] = c === 0 ? null : sum[slot]! / c;
        if (win.delayedShare) batch.columns[`delayed_share_${win.name}`]![r] = c === 0 ? null : delayed[slot]! / c;
      });
      if (batch.length === batchRows) {
        yield { rowStart, length: batch.length, columns: batch.columns };
        rowStart += batch.length;
        batch = newBatch(windows, batchRows);
      }
    }
  }
  if (batch.length > 0) yield { rowStart, length: batch.length, columns: batch.columns };
}

function newBatch(windows: readonly WindowSpec[], size: number): { length: number; columns: Record<string, unknown[]> } {
  const columns: Record<string, unknown[]> = { as_of: new Array<number>(size) };
  for (const w of windows) {
    columns[`flights_${w.name}`] = new Array<number>(size);
    columns[`mean_delay_${w.name}`] = new Array<number | null>(size);
    if (w.delayedShare) columns[`delayed_share_${w.name}`] = new Array<number | null>(size);
  }
  return { length: 0, columns };
}

const ORIGIN_WINDOWS: WindowSpec[] = [
  { name: '1h', ms: HOUR, delayedShare: false },
  { name: '1d', ms: DAY, delayedShare: true },
  { name: '7d', ms: 7 * DAY, delayedShare: true },
];
const ROUTE_WINDOWS: WindowSpec[] = [
  { name: '7d', ms: 7 * DAY, delayedShare: true },
  { name: '30d', ms: 30 * DAY, delayedShare: false },
];

function columnKinds(keys: string[], windows: readonly WindowSpec[]) {
  const kinds: Record<string, 'string' | 'integer' | 'float' | 'timestamp'> = { as_of: 'timestamp' };
  for (const k of keys) kinds[k] = 'string';
  for (const w of windows) {
    kinds[`flights_${w.name}`] = 'integer';
    kinds[`mean_delay_${w.name}`] = 'float';
    if (w.delayedShare) kinds[`delayed_share_${w.name}`] = 'float';
  }
  return kinds;
}

export interface FlightFeaturesResult {
  flights: number;
  views: IngestResult[];
}

/**
 * The feature pipeline: computes origin_delays and route_delays from an ingestion's raw flights and
 * ingests them into the offline store (idempotently: a rerun on the same ingestion writes nothing).
 * The raw flights are held as flat columns (about 20 bytes a flight); the computed rows stream.
 */
export async function computeFlightFeatures(
  db: Database,
  ingestionId: string,
  options: { batchRows?: number; onProgress?: (view: string, rowsWritten: number) => void } = {},
): Promise<FlightFeaturesResult> {
  const flights = await readFlights(db, ingestionId);
  const batchRows = options.batchRows ?? 20_000;
  const contentHash = (view: string) =>
    `sha256:${createHash('sha256').update(`raw_flights:${ingestionId}:flight-features:v${FLIGHT_FEATURES_VERSION}:${view}`).digest('hex')}`;

  const routeIds = new Map<number, number>();
  const routeOf = new Int32Array(flights.rows);
  const routes: Array<[number, number]> = [];
  const airports = flights.airports.length;
  for (let i = 0; i < flights.rows; i++) {
    const pair = flights.origin[i]! * airports + flights.destination[i]!;
    let id = routeIds.get(pair);
    if (id === undefined) {
      routeIds.set(pair, (id = routes.length));
      routes.push([flights.origin[i]!, flights.destination[i]!]);
    }
    routeOf[i] = id;
  }

  const plans = [
    {
      view: originDelays.name,
      keys: ['origin'],
      windows: ORIGIN_WINDOWS,
      rows: () => windowRows(flights, flights.origin, airports, (g) => ({ origin: flights.airports[g]! }), ORIGIN_WINDOWS, batchRows),
    },
    {
      view: routeDelays.name,
      keys: ['origin', 'destination'],
      windows: ROUTE_WINDOWS,
      rows: () =>
        windowRows(flights, routeOf, routes.length, (g) => ({ origin: flights.airports[routes[g]![0]]!, destination: flights.airports[routes[g]![1]]! }), ROUTE_WINDOWS, batchRows),
    },
  ];
  const views: IngestResult[] = [];
  for (const plan of plans) {
    const result = await ingest(
      db,
      plan.view,
      batchSource({ description: `flight-features v${FLIGHT_FEATURES_VERSION} of ${ingestionId}`, contentHash: contentHash(plan.view), columns: columnKinds(plan.keys, plan.windows), batches: plan.rows }),
      { batchRows, onProgress: ({ rowsWritten }) => options.onProgress?.(plan.view, rowsWritten) },
    );
    views.push(result);
  }
  return { flights: flights.rows, views };
}
