// Which served models the scorer may enrich from the online store (`steward serve --enrich <model>`),
// and how their inputs map to the feature service's features (src/serving/enrichment.ts).
import type { EnricherConfig } from '../../../src/serving/enrichment.js';
import { flightDelayService } from './flights.js';

/** The flight-delay model's store-served inputs; hour, dayOfWeek, month and distance come with the request, origin from its entity key. */
export const flightDelayEnrichment: EnricherConfig = {
  featureService: flightDelayService.name,
  features: {
    originDelay7d: 'origin_delays__mean_delay_7d',
    // No row means no earlier flight: a true zero count, as in the training set.
    originFlights7d: { feature: 'origin_delays__flights_7d', ifNull: 0 },
  },
};

export const enrichments: Readonly<Record<string, EnricherConfig>> = { 'flight-delay': flightDelayEnrichment };
