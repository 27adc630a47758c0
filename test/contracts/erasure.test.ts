/**
 * Erasure on both drivers: one entity's rows leave the offline store, the online store and the
 * prediction log together; other entities stay; the audit entry names the entity only by a hash;
 * the model versions trained downstream of the erased rows are listed; an unknown entity or a
 * malformed one is a clear error that erases nothing.
 */
import { sql } from 'drizzle-orm';
import { Float64, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { predictionLog } from '../../src/db/schema.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { apply, ingest, materialize, tableSource } from '../../src/features/index.js';
import { auditTrail } from '../../src/audit/index.js';
import { grantAccess } from '../../src/governance/access.js';
import { eraseEntity } from '../../src/governance/erasure.js';
import { createPrincipal } from '../../src/governance/identity.js';
import { featureViewDataset, modelVersionDataset } from '../../src/lineage/datasets.js';
import { createLineageSink } from '../../src/lineage/store.js';
import { runStepWithCache } from '../../src/pipeline/step-runtime.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { customer, profile } from '../support/customer-features.js';

const T0 = Date.UTC(2024, 0, 1);

describeEachDriver('erasure', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;
  const rowsOf = async (customerId: string) => ({
    offline: (await queryRows<{ n: number }>(db(), sql`select count(*)::int as n from features.customer_profile where customer_id = ${customerId}`))[0]!.n,
    online: (await queryRows<{ n: number }>(db(), sql`select count(*)::int as n from feature_online where entity_key = ${JSON.stringify([customerId])}`))[0]!.n,
    predictions: (await queryRows<{ n: number }>(db(), sql`select count(*)::int as n from prediction_log where inputs::text like ${`%"${customerId}"%`}`))[0]!.n,
  });

  it('erases one entity from the offline and online stores and the prediction log, listing the models trained on it', async () => {
    await apply(db(), [customer, profile]);
    const rows = new Table({
      customer_id: vectorFromArray(['c1', 'c1', 'c2'], new Utf8()),
      event_at: vectorFromArray([new Date(T0), new Date(T0 + 3_600_000), new Date(T0)], new TimestampMillisecond()),
      spend: vectorFromArray([10, 12, 20], new Float64()),
      home_zip: vectorFromArray(['10115', '10115', '80331'], new Utf8()),
    });
    await ingest(db(), 'customer_profile', tableSource(rows, { description: 'test rows' }));
    await materialize(db(), { views: ['customer_profile'], incremental: false });
    const logged = (customerId: string) => ({ requestId: `r-${customerId}`, modelName: 'churn', version: 1, arm: 'direct', rows: 1, inputs: [{ customer_id: customerId, spend: 1 }], outputs: [0.3], latencyMs: 1, at: new Date(T0) });
    await db().insert(predictionLog).values([logged('c1'), logged('c1'), logged('c2')]);
    // Lineage: a training step read the view and registered churn v1.
    await runStepWithCache(
      db(),
      { train: { run: async () => ({ version: 1 }), lineage: () => ({ inputs: [featureViewDataset('customer_profile')], outputs: [modelVersionDataset('churn', 1)] }) } },
      { runId: 'wf-train-churn', pipeline: 'train-churn', step: 'train', uses: 'train', version: '1', input: {}, cache: false },
      { attempt: 1, heartbeat: () => {}, signal: new AbortController().signal },
      createLineageSink(db()),
    );
    expect(await rowsOf('c1')).toEqual({ offline: 2, online: 1, predictions: 2 });

    const erased = await eraseEntity(db(), { entity: 'customer_id=c1', actor: 'dpo', reason: 'request #42' });
    expect(erased).toMatchObject({ key: 'customer_id', offline: { customer_profile: 2 }, online: { customer_profile: 1 }, predictions: 2, modelVersions: ['churn@v1'] });
    expect(erased.entityHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await rowsOf('c1')).toEqual({ offline: 0, online: 0, predictions: 0 });
    expect(await rowsOf('c2')).toEqual({ offline: 1, online: 1, predictions: 1 });

    const [entry] = await auditTrail(db(), { subject: `entity:${erased.entityHash}` });
    expect(entry).toMatchObject({ actor: 'dpo', action: 'data.erased', seq: erased.auditSeq });
    // No personal data: the value appears neither in the details nor in the subject (only its hash).
    expect(JSON.stringify(entry!.details)).not.toMatch(/c1|10115/);
    expect(entry!.subject).toBe(`entity:${erased.entityHash}`);
  });

  it('refuses an unknown entity or a malformed one and erases nothing', async () => {
    await expect(eraseEntity(db(), { entity: 'customer_id=c1', actor: 'dpo' })).rejects.toThrow(NotFoundError);
    await expect(eraseEntity(db(), { entity: 'customer_id=nobody', actor: 'dpo' })).rejects.toThrow(
      /^No rows for entity customer_id=<value given> in feature views customer_profile and the prediction log: nothing was erased/,
    );
    await expect(eraseEntity(db(), { entity: 'c2', actor: 'dpo' })).rejects.toThrow(ValidationError);
    await expect(eraseEntity(db(), { entity: 'c2', actor: 'dpo' })).rejects.toThrow(/Name the entity as <join key>=<value>, e\.g\. --entity customer_id=c1/);
    expect(await rowsOf('c2')).toEqual({ offline: 1, online: 1, predictions: 1 });
    expect((await auditTrail(db(), {})).filter((e) => e.action === 'data.erased')).toHaveLength(1);
  });

  it('needs write on every store it touches when an authenticated principal asks, and a denial erases nothing', async () => {
    await createPrincipal(db(), { name: 'dpo', roles: ['privacy'], actor: 'admin' });
    await expect(eraseEntity(db(), { entity: 'customer_id=c2', actor: 'dpo', principal: 'dpo' })).rejects.toThrow(
      /^Permission denied: dpo may not write feature_view:customer_profile \(pii\)/,
    );
    expect(await rowsOf('c2')).toEqual({ offline: 1, online: 1, predictions: 1 });
    await grantAccess(db(), { role: 'privacy', permission: 'write', resource: 'feature_view:*', actor: 'admin' });
    await expect(eraseEntity(db(), { entity: 'customer_id=c2', actor: 'dpo', principal: 'dpo' })).rejects.toThrow(/dpo may not write dataset:prediction_log \(confidential\)/);
    expect(await rowsOf('c2')).toEqual({ offline: 1, online: 1, predictions: 1 });
    await grantAccess(db(), { role: 'privacy', permission: 'write', resource: 'dataset:prediction_log', actor: 'admin' });
    expect(await eraseEntity(db(), { entity: 'customer_id=c2', actor: 'dpo', principal: 'dpo' })).toMatchObject({ offline: { customer_profile: 1 }, predictions: 1 });
    expect(await rowsOf('c2')).toEqual({ offline: 0, online: 0, predictions: 0 });
  });
});
