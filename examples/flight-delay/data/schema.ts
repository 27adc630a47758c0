/**
 * The flight-delay example's own tables: raw flights as ingested, and the delay summaries of the
 * flight-delay-summary pipeline. They belong to the example, not to Steward's schema: the platform's
 * migrations know nothing of them, and `ensureFlightTables` creates them (idempotently, under an
 * advisory lock so two workers never race) before the example first writes or reads them.
 */
import { sql } from 'drizzle-orm';
import { bigint, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { queryRows, type Database } from '../../../src/db/client.js';
import { ingestions } from '../../../src/db/schema.js';
import { tableDataset, tableFields } from '../../../src/lineage/datasets.js';
import type { Dataset } from '../../../src/lineage/openlineage.js';
import { describeColumns, type CatalogEntry } from '../../../src/governance/catalog.js';

/** US domestic flights (vega-datasets flights-3m: January to June 2001), as ingested. */
export const rawFlights = pgTable(
  'raw_flights',
  {
    ingestionId: text('ingestion_id')
      .notNull()
      .references(() => ingestions.id, { onDelete: 'cascade' }),
    rowNumber: integer('row_number').notNull(),
    departedAt: timestamp('departed_at', { withTimezone: true }).notNull(),
    delayMinutes: integer('delay_minutes').notNull(),
    distanceMiles: integer('distance_miles').notNull(),
    origin: text('origin').notNull(),
    destination: text('destination').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ingestionId, t.rowNumber] }), index('raw_flights_origin_idx').on(t.ingestionId, t.origin)],
);

export const delaySummaries = pgTable('delay_summaries', {
  id: text('id').primaryKey(),
  ingestionId: text('ingestion_id')
    .notNull()
    .references(() => ingestions.id, { onDelete: 'cascade' }),
  delayThresholdMinutes: integer('delay_threshold_minutes').notNull(),
  flights: bigint('flights', { mode: 'number' }).notNull(),
  airports: integer('airports').notNull(),
  delayedShare: doublePrecision('delayed_share').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const airportDelays = pgTable(
  'airport_delays',
  {
    summaryId: text('summary_id')
      .notNull()
      .references(() => delaySummaries.id, { onDelete: 'cascade' }),
    origin: text('origin').notNull(),
    flights: integer('flights').notNull(),
    meanDelayMinutes: doublePrecision('mean_delay_minutes').notNull(),
    delayedShare: doublePrecision('delayed_share').notNull(),
  },
  (t) => [primaryKey({ columns: [t.summaryId, t.origin] })],
);

/** The raw flights table's name in lineage and the catalog. */
export const RAW_FLIGHTS = 'raw_flights';

/** Raw flights as a lineage dataset; with an ingestion id, that one load of them. */
export function rawFlightsDataset(ingestionId?: string): Dataset {
  return tableDataset(RAW_FLIGHTS, rawFlights, ingestionId);
}

/** The catalog entry of raw flights, which the project declares (steward.config.ts `catalog`). */
export const rawFlightsCatalogEntry: CatalogEntry = {
  name: 'raw_flights',
  kind: 'raw',
  description: 'US domestic flights of 2001 (vega-datasets flights-3m), one row per flight, per ingestion.',
  owner: 'data-platform',
  sensitivity: 'internal',
  tags: ['flights', 'raw', 'source:vega-datasets'],
  retention: '2 years',
  columns: describeColumns(tableFields(rawFlights), {
    ingestion_id: 'the ingestion that loaded the row',
    row_number: 'position of the row in its source file',
    departed_at: 'scheduled departure (UTC)',
    delay_minutes: 'arrival delay in minutes (negative: early)',
    distance_miles: 'flight distance',
    origin: 'departure airport (IATA code)',
    destination: 'arrival airport (IATA code)',
  }),
};

export type NewRawFlight = typeof rawFlights.$inferInsert;
export type DelaySummary = typeof delaySummaries.$inferSelect;
export type AirportDelayRow = typeof airportDelays.$inferSelect;

/** The tables' DDL, as drizzle-kit generated it for them, made idempotent. */
const DDL = [
  `CREATE TABLE IF NOT EXISTS "raw_flights" (
    "ingestion_id" text NOT NULL REFERENCES "ingestions"("id") ON DELETE cascade,
    "row_number" integer NOT NULL,
    "departed_at" timestamp with time zone NOT NULL,
    "delay_minutes" integer NOT NULL,
    "distance_miles" integer NOT NULL,
    "origin" text NOT NULL,
    "destination" text NOT NULL,
    CONSTRAINT "raw_flights_ingestion_id_row_number_pk" PRIMARY KEY("ingestion_id","row_number")
  )`,
  `CREATE INDEX IF NOT EXISTS "raw_flights_origin_idx" ON "raw_flights" USING btree ("ingestion_id","origin")`,
  `CREATE TABLE IF NOT EXISTS "delay_summaries" (
    "id" text PRIMARY KEY NOT NULL,
    "ingestion_id" text NOT NULL REFERENCES "ingestions"("id") ON DELETE cascade,
    "delay_threshold_minutes" integer NOT NULL,
    "flights" bigint NOT NULL,
    "airports" integer NOT NULL,
    "delayed_share" double precision NOT NULL,
    "created_at" timestamp with time zone DEFAULT now() NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS "airport_delays" (
    "summary_id" text NOT NULL REFERENCES "delay_summaries"("id") ON DELETE cascade,
    "origin" text NOT NULL,
    "flights" integer NOT NULL,
    "mean_delay_minutes" double precision NOT NULL,
    "delayed_share" double precision NOT NULL,
    CONSTRAINT "airport_delays_summary_id_origin_pk" PRIMARY KEY("summary_id","origin")
  )`,
];

/** Databases whose tables this process has already ensured: one round trip per process, not per call. */
const ensured = new WeakSet<object>();

/**
 * Creates the example's tables where they are missing. The ingestion records of flights whose rows
 * a missing raw_flights table cannot hold are removed with it (a database upgraded past the
 * migration that took the tables out of Steward's schema keeps its `ingestions`), so an ingestion is
 * never "reused" with no rows behind it.
 */
export async function ensureFlightTables(db: Database): Promise<void> {
  if (ensured.has(db)) return;
  await db.transaction(async (tx) => {
    // One creator at a time across processes: CREATE TABLE IF NOT EXISTS alone can race in PostgreSQL.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('steward-example:flight-delay:tables'))`);
    const [table] = await queryRows<{ present: boolean }>(tx as unknown as Database, sql`select to_regclass('raw_flights') is not null as present`);
    if (!table?.present) await tx.delete(ingestions).where(sql`${ingestions.dataset} = 'flights'`);
    for (const statement of DDL) await tx.execute(sql.raw(statement));
  });
  ensured.add(db);
}
