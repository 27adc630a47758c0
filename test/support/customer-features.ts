/**
 * A small feature set with a pii feature, shared by the governance tests: a customer entity and
 * its profile view, whose `home_zip` is tagged `sensitivity: pii` (purpose limitation, erasure,
 * the catalog).
 */
import { entity, featureView } from '../../src/features/index.js';

export const customer = entity({ name: 'customer', joinKeys: { customer_id: 'string' } });

export const profile = featureView({
  name: 'customer_profile',
  entities: [customer],
  schema: { spend: 'float64', home_zip: { type: 'string', tags: { sensitivity: 'pii' } } },
  eventTimestamp: 'event_at',
  source: { kind: 'pipeline', name: 'test' },
  owner: 'growth',
  description: 'Spend and home zip code per customer',
});
