/**
 * What raw flights (examples/flight-delay/data/flights.ts, table raw_flights) must satisfy before anything trains
 * on them. Checked per ingestion by the training pipeline's `quality` step.
 */
import { sql } from 'drizzle-orm';
import { expect, expectationSuite, type ExpectationSuite } from '../../../src/governance/expectations.js';
import { RAW_FLIGHTS } from './schema.js';


export function rawFlightExpectations(options: { minRows: number }): ExpectationSuite {
  return expectationSuite({
    name: 'raw-flights',
    dataset: RAW_FLIGHTS,
    table: 'raw_flights',
    sampleColumns: ['row_number', 'departed_at', 'delay_minutes', 'distance_miles', 'origin', 'destination'],
    expectations: [
      expect.rowCount({ min: options.minRows }),
      expect.column('departed_at', 'timestamp with time zone'),
      expect.column('delay_minutes', 'integer'),
      expect.column('distance_miles', 'integer'),
      expect.column('origin', 'text'),
      expect.column('destination', 'text'),
      expect.nullFraction('origin', 0),
      expect.nullFraction('destination', 0),
      // flights-3m holds 3 departures more than two hours early (-212 down to -1116 minutes) among
      // 3 million: recording errors to report, not a reason to refuse the whole source.
      expect.between('delay_minutes', -120, 1800, { mostly: 0.9999 }),
      expect.between('distance_miles', 1, 6000),
      expect.matches('origin', '^[A-Z0-9]{3}$'),
      expect.matches('destination', '^[A-Z0-9]{3}$'),
      expect.condition('origin differs from destination', ['origin', 'destination'], sql`origin = destination`),
      expect.between('departed_at', '2001-01-01T00:00:00Z', '2001-12-31T23:59:59.999Z'),
      expect.unique('row_number'),
    ],
  });
}
