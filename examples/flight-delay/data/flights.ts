/**
 * Ingestion of raw flights (vega-datasets flights-3m.parquet) into the database, and the delay
 * summary the demo pipeline computes from them. Both writes are idempotent: ingestion is keyed by
 * the content read, the summary by the caller's key.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { and, desc, eq, gte, sql } from 'drizzle-orm';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Database } from '../../../src/db/client.js';
import { once, type OnceOptions } from '../../../src/db/idempotency.js';
import { ingestions } from '../../../src/db/schema.js';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import { cpuTask, defaultCpuPool, withTransfer, type CpuPool, type Transferred } from '../../../src/platform/cpu-pool.js';
import { vegaDataset } from '../../../src/datasets/vega.js';
import { airportDelays, delaySummaries, rawFlights, type NewRawFlight, ensureFlightTables } from './schema.js';
import type { AirportDelay, IngestFlightsResult, SummarizeDelaysResult } from './contracts.js';

export const FLIGHT_COLUMNS = ['date', 'delay', 'distance', 'origin', 'destination'] as const;
/** Rows per INSERT: 5,000 rows x 7 columns stays well under PostgreSQL's 65,535 parameters. */
const INSERT_BATCH = 5_000;
/** Rows decoded from Parquet at a time, so memory stays bounded whatever the row count. */
const READ_BATCH = 50_000;

export interface IngestOptions extends OnceOptions {
  rows?: number;
  /** Called after each batch with the rows written so far (for heartbeats and progress bars). */
  onProgress?: (rowsWritten: number, rowsTotal: number) => void;
  /** Where Parquet is decoded (default: the process's CPU pool), and what cancels the decoding. */
  cpu?: { pool?: CpuPool; signal?: AbortSignal };
}

/** A source is a file path, or `vega:<file>` for a file that the vega-datasets package ships. */
export function resolveSource(source: string): string {
  return source.startsWith('vega:') ? vegaDataset(source.slice('vega:'.length)) : source;
}

export async function ingestFlights(db: Database, sourceRef: string, options: IngestOptions = {}): Promise<IngestFlightsResult> {
  const source = resolveSource(sourceRef);
  if (!fs.existsSync(source)) throw new NotFoundError(`Flights file not found: ${source}`, { source });
  if (options.rows !== undefined && (!Number.isInteger(options.rows) || options.rows <= 0)) {
    throw new ValidationError(`rows must be a positive whole number, got ${options.rows}.`, { rows: options.rows });
  }
  await ensureFlightTables(db);
  const file = await asyncBufferFromFile(source);
  const metadata = await parquetMetadataAsync(file).catch((error: Error) => {
    throw new ValidationError(`${source} is not a readable Parquet file (${error.message}).`, { source });
  });
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const missing = FLIGHT_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new ValidationError(
      `${source} is not a flights file: it lacks column(s) ${missing.join(', ')} (has ${columns.join(', ')}).`,
      { source, missing },
    );
  }
  const available = Number(metadata.num_rows);
  const rowEnd = Math.min(options.rows ?? available, available);
  const contentHash = `sha256:${await sha256File(source)}:rows=0-${rowEnd}`;
  const ingestionId = `flights-${createHash('sha256').update(contentHash).digest('hex').slice(0, 16)}`;

  const { result, replayed } = await once(
    db,
    `ingest:${ingestionId}`,
    'datasets.ingestFlights',
    async (tx) => {
      await tx.insert(ingestions).values({ id: ingestionId, dataset: 'flights', source: sourceRef, contentHash, rows: rowEnd });
      for (let start = 0; start < rowEnd; start += READ_BATCH) {
        const end = Math.min(start + READ_BATCH, rowEnd);
        // Decoding is CPU-bound (seconds per batch): a pool thread does it while this thread keeps heartbeating.
        const batch = await (options.cpu?.pool ?? defaultCpuPool()).run(decodeFlightsTask, { source, rowStart: start, rowEnd: end }, { signal: options.cpu?.signal });
        const rows = Array.from({ length: batch.departedAt.length }, (_, i) => toRawFlight(ingestionId, start + i, batch, i));
        for (let i = 0; i < rows.length; i += INSERT_BATCH) {
          await tx.insert(rawFlights).values(rows.slice(i, i + INSERT_BATCH));
        }
        options.onProgress?.(end, rowEnd);
      }
      return { ingestionId, rows: rowEnd, contentHash };
    },
    options,
  );
  return { ...result, reused: replayed };
}

/** Rows [rowStart, rowEnd) of a flights file as columns, dates as epoch milliseconds. */
export interface FlightColumnsBatch {
  departedAt: Float64Array<ArrayBuffer>;
  delay: Float64Array<ArrayBuffer>;
  distance: Float64Array<ArrayBuffer>;
  origin: string[];
  destination: string[];
}

/** Decodes rows of a flights Parquet file (pure CPU, so it runs in a CPU pool thread); a row without a timestamp is refused. */
export async function decodeFlights(input: { source: string; rowStart: number; rowEnd: number }): Promise<Transferred<FlightColumnsBatch>> {
  const file = await asyncBufferFromFile(input.source);
  const metadata = await parquetMetadataAsync(file);
  const objects = await parquetReadObjects({ file, metadata, compressors, rowStart: input.rowStart, rowEnd: input.rowEnd, columns: [...FLIGHT_COLUMNS] });
  const n = objects.length;
  const batch: FlightColumnsBatch = { departedAt: new Float64Array(n), delay: new Float64Array(n), distance: new Float64Array(n), origin: new Array(n), destination: new Array(n) };
  objects.forEach((o, i) => {
    const departedAt = o.date;
    if (!(departedAt instanceof Date) || Number.isNaN(departedAt.getTime())) {
      const rowNumber = input.rowStart + i;
      throw new ValidationError(`Row ${rowNumber}: date is not a timestamp (${String(departedAt)}).`, { rowNumber });
    }
    batch.departedAt[i] = departedAt.getTime();
    batch.delay[i] = Number(o.delay);
    batch.distance[i] = Number(o.distance);
    batch.origin[i] = String(o.origin);
    batch.destination[i] = String(o.destination);
  });
  return withTransfer(batch, [batch.departedAt.buffer, batch.delay.buffer, batch.distance.buffer]);
}

export const decodeFlightsTask = cpuTask(import.meta.url, 'decodeFlightsTask', decodeFlights);

function toRawFlight(ingestionId: string, rowNumber: number, batch: FlightColumnsBatch, i: number): NewRawFlight {
  return {
    ingestionId,
    rowNumber,
    departedAt: new Date(batch.departedAt[i]!),
    delayMinutes: batch.delay[i]!,
    distanceMiles: batch.distance[i]!,
    origin: batch.origin[i]!,
    destination: batch.destination[i]!,
  };
}

/** sha256 of a flights source's bytes (for step cache keys), with the same errors as ingestion. */
export async function sourceFingerprint(sourceRef: string): Promise<string> {
  const source = resolveSource(sourceRef);
  if (!fs.existsSync(source)) throw new NotFoundError(`Flights file not found: ${source}`, { source });
  return sha256File(source);
}

/** Hashes are remembered per path, size and mtime: a step's fingerprint and its ingestion read a file once. */
const hashes = new Map<string, string>();

async function sha256File(file: string): Promise<string> {
  const stat = fs.statSync(file);
  const memoKey = `${file}\0${stat.size}\0${stat.mtimeMs}`;
  const known = hashes.get(memoKey);
  if (known) return known;
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  hashes.set(memoKey, digest);
  return digest;
}

export interface SummarizeOptions extends OnceOptions {
  delayThresholdMinutes: number;
  /** Airports with fewer flights are left out of the worst-airports ranking. */
  minFlights?: number;
}

export async function summarizeDelays(
  db: Database,
  ingestionId: string,
  summaryKey: string,
  options: SummarizeOptions,
): Promise<SummarizeDelaysResult> {
  const threshold = options.delayThresholdMinutes;
  if (!Number.isFinite(threshold)) throw new ValidationError(`delayThresholdMinutes must be a number, got ${threshold}.`);
  const minFlights = options.minFlights ?? 500;
  await ensureFlightTables(db);
  const [ingestion] = await db.select().from(ingestions).where(eq(ingestions.id, ingestionId));
  if (!ingestion) throw new NotFoundError(`No ingestion ${ingestionId}: ingest the flights first.`, { ingestionId });

  const summaryId = `summary-${createHash('sha256').update(summaryKey).digest('hex').slice(0, 16)}`;
  const { result, replayed } = await once(
    db,
    `summarize:${summaryKey}`,
    'datasets.summarizeDelays',
    async (tx) => {
      const perAirport = await tx
        .select({
          origin: rawFlights.origin,
          flights: sql<number>`count(*)::int`,
          meanDelayMinutes: sql<number>`avg(${rawFlights.delayMinutes})::float8`,
          delayedShare: sql<number>`avg(case when ${rawFlights.delayMinutes} > ${threshold} then 1.0 else 0.0 end)::float8`,
        })
        .from(rawFlights)
        .where(eq(rawFlights.ingestionId, ingestionId))
        .groupBy(rawFlights.origin);
      const flights = perAirport.reduce((n, a) => n + a.flights, 0);
      const delayed = perAirport.reduce((n, a) => n + a.delayedShare * a.flights, 0);
      const delayedShare = flights === 0 ? 0 : delayed / flights;
      await tx.insert(delaySummaries).values({
        id: summaryId,
        ingestionId,
        delayThresholdMinutes: threshold,
        flights,
        airports: perAirport.length,
        delayedShare,
      });
      if (perAirport.length > 0) {
        await tx.insert(airportDelays).values(perAirport.map((a) => ({ summaryId, ...a })));
      }
      return { summaryId, flights, airports: perAirport.length, delayedShare };
    },
    options,
  );
  const worstAirports = await worstAirportsOf(db, result.summaryId, minFlights);
  return { ...result, worstAirports, reused: replayed };
}

async function worstAirportsOf(db: Database, summaryId: string, minFlights: number): Promise<AirportDelay[]> {
  return db
    .select({
      origin: airportDelays.origin,
      flights: airportDelays.flights,
      meanDelayMinutes: airportDelays.meanDelayMinutes,
      delayedShare: airportDelays.delayedShare,
    })
    .from(airportDelays)
    .where(and(eq(airportDelays.summaryId, summaryId), gte(airportDelays.flights, minFlights)))
    .orderBy(desc(airportDelays.delayedShare))
    .limit(5);
}
