/** What the flight-delay example's ingestion and summary steps take and return. */

export interface IngestFlightsInput {
  /** Path of a Parquet file with the flights-3m columns (date, delay, distance, origin, destination). */
  source: string;
  /** Ingest the first `rows` rows of the file (all of them when omitted). */
  rows?: number;
}

export interface IngestFlightsResult {
  ingestionId: string;
  rows: number;
  /** sha256 of the source file and the row range read from it. */
  contentHash: string;
  /** True when an identical ingestion already existed and was reused instead of written again. */
  reused: boolean;
}

export interface SummarizeDelaysInput {
  ingestionId: string;
  delayThresholdMinutes: number;
}

export interface AirportDelay {
  origin: string;
  flights: number;
  meanDelayMinutes: number;
  delayedShare: number;
}

export interface SummarizeDelaysResult {
  summaryId: string;
  flights: number;
  airports: number;
  delayedShare: number;
  /** The airports with the highest share of delayed departures (at least 500 flights). */
  worstAirports: AirportDelay[];
  reused: boolean;
}
