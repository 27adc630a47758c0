/**
 * The data catalog on both drivers: registered from code (Steward's tables, and the flight-delay
 * example's declared raw table and feature definitions) idempotently; listed, shown and searched; edited by its owner only, with the edit
 * audited and kept across the next registration; an unknown name is a clear error.
 */
import { expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { auditTrail } from '../../src/audit/index.js';
import { builtinCatalog, catalogFromDefinitions, editCatalogEntry, listCatalog, registerCatalog, searchCatalog, showCatalogEntry } from '../../src/governance/catalog.js';
import { entity, featureService, featureView } from '../../src/features/index.js';
import { PermissionDeniedError } from '../../src/governance/identity.js';
import { flightDelayProject } from '../../examples/flight-delay/steward.config.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

const customer = entity({ name: 'customer', joinKeys: { customer_id: 'string' } });
const profile = featureView({
  name: 'customer_profile',
  entities: [customer],
  schema: { spend: 'float64', home_zip: { type: 'string', description: 'home postcode', tags: { sensitivity: 'pii' } } },
  eventTimestamp: 'event_at',
  source: { kind: 'pipeline', name: 'test' },
  owner: 'growth',
  description: 'Spend and home zip code per customer',
  tags: { team: 'growth' },
});
const churn = featureService({ name: 'churn', version: 2, features: [profile], owner: 'growth' });
// What `steward catalog` registers: Steward's own tables, the project's declared entries (the example's
// raw_flights) and the feature definitions.
const fromCode = () => [...builtinCatalog(), ...flightDelayProject.catalog, ...catalogFromDefinitions([...flightDelayProject.features, customer, profile, churn])];

describeEachDriver('data catalog', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;

  it('registers raw tables, feature views and training sets from code, once', async () => {
    const first = await registerCatalog(db(), fromCode());
    expect(first.created.sort()).toEqual([
      'feature_view:customer_profile',
      'feature_view:origin_delays',
      'feature_view:route_delays',
      'prediction_log',
      'raw_flights',
      'training_set:churn',
      'training_set:flight_delay',
    ]);
    expect(await registerCatalog(db(), fromCode())).toEqual({ created: [], updated: [], unchanged: 7 });
    const view = await showCatalogEntry(db(), 'feature_view:customer_profile');
    expect(view).toMatchObject({ kind: 'feature_view', owner: 'growth', sensitivity: 'pii', tags: ['team:growth'] });
    expect(view.columns).toContainEqual({ name: 'home_zip', type: 'string', description: 'home postcode', sensitivity: 'pii' });
    expect(await showCatalogEntry(db(), 'training_set:churn')).toMatchObject({ kind: 'training_set', sensitivity: 'pii' });
    expect((await showCatalogEntry(db(), 'raw_flights')).columns.map((c) => c.name)).toEqual(['ingestion_id', 'row_number', 'departed_at', 'delay_minutes', 'distance_miles', 'origin', 'destination']);
    expect((await listCatalog(db())).map((r) => r.kind)).toEqual(['feature_view', 'feature_view', 'feature_view', 'prediction_log', 'raw', 'training_set', 'training_set']);
  });

  it('finds datasets by name, description, tags or column, and says which matched', async () => {
    const hits = await searchCatalog(db(), 'postcode');
    expect(hits.map((h) => [h.name, h.matched])).toEqual([['feature_view:customer_profile', ['column home_zip']]]);
    expect((await searchCatalog(db(), 'airport')).map((h) => h.name)).toContain('raw_flights');
    await expect(showCatalogEntry(db(), 'flights')).rejects.toThrow(/No dataset "flights" in the catalog. Did you mean raw_flights\?/);
    await expect(showCatalogEntry(db(), 'nothing-like-it')).rejects.toThrow(NotFoundError);
  });

  it('lets the owner edit, refuses others with a 403, audits the edit and keeps it across registration', async () => {
    const refused = await editCatalogEntry(db(), 'feature_view:customer_profile', { retention: '1 year' }, 'mallory').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect((refused as Error).message).toBe('Permission denied: mallory may not write dataset feature_view:customer_profile: only its owner (growth) edits its catalog entry.');
    const edited = await editCatalogEntry(db(), 'feature_view:customer_profile', { retention: '1 year', description: 'Customer spend and home postcode' }, 'growth');
    expect(edited).toMatchObject({ retention: '1 year', edited: ['description', 'retention'], updatedBy: 'growth' });
    await registerCatalog(db(), fromCode());
    expect(await showCatalogEntry(db(), 'feature_view:customer_profile')).toMatchObject({ retention: '1 year', description: 'Customer spend and home postcode', owner: 'growth' });
    const trail = await auditTrail(db(), { subject: 'dataset:feature_view:customer_profile' });
    expect(trail.map((e) => [e.actor, e.action])).toEqual([['growth', 'catalog.edited']]);
  });
});
