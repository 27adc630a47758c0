/**
 * Access control on both drivers: sensitive (pii, confidential) resources need a grant to one of
 * the principal's roles, others are open for read/write/train-on/deploy; a denial is a 403 naming
 * the permission and the resource; every decision on a sensitive resource is audited; the step
 * runtime enforces a step's requirements for the principal who started the run, before the step runs.
 */
import { expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { authorize, decideAccess, grantAccess, listGrants, revokeAccess } from '../../src/governance/access.js';
import { auditTrail } from '../../src/audit/index.js';
import { createPrincipal, PermissionDeniedError, setDisabled } from '../../src/governance/identity.js';
import { allLineageEvents, createLineageSink } from '../../src/lineage/store.js';
import { runStepWithCache, type StepAuthorizer, type StepImplementations } from '../../src/pipeline/step-runtime.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

describeEachDriver('access control', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;
  const pii = { permission: 'train-on' as const, resource: 'feature_view:customer_profile', sensitivity: 'pii' };

  it('denies a sensitive resource without a grant with a 403 naming the permission and resource, and audits it', async () => {
    await createPrincipal(db(), { name: 'ana', roles: ['engineer'], actor: 'admin' });
    const denied = await authorize(db(), { principal: 'ana', ...pii, context: 'test' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect((denied as PermissionDeniedError).status).toBe(403);
    expect((denied as Error).message).toBe(
      'Permission denied: ana may not train-on feature_view:customer_profile (pii): no grant to the role engineer allows train-on on feature_view:customer_profile. An operator can allow it with `steward access grant <role> train-on feature_view:customer_profile`.',
    );
    expect((denied as PermissionDeniedError).details).toMatchObject({ principal: 'ana', permission: 'train-on', resource: 'feature_view:customer_profile' });
    const trail = await auditTrail(db(), { subject: 'feature_view:customer_profile' });
    expect(trail.map((e) => [e.actor, e.action, (e.details as { permission: string }).permission])).toEqual([['ana', 'access.denied', 'train-on']]);
  });

  it('allows it under a grant to one of the roles (exact or wildcard), audited too, until revoked', async () => {
    await grantAccess(db(), { role: 'engineer', permission: 'train-on', resource: 'feature_view:*', actor: 'admin' });
    const allowed = await authorize(db(), { principal: 'ana', ...pii });
    expect(allowed).toMatchObject({ allowed: true, audited: true, reason: 'granted to role engineer: train-on on feature_view:*' });
    expect((await decideAccess(db(), { principal: 'ana', ...pii, permission: 'read' })).allowed).toBe(false);
    expect((await listGrants(db())).map((g) => [g.role, g.permission, g.resource])).toEqual([['engineer', 'train-on', 'feature_view:*']]);
    expect(await revokeAccess(db(), { role: 'engineer', permission: 'train-on', resource: 'feature_view:*', actor: 'admin' })).toBe(true);
    expect((await decideAccess(db(), { principal: 'ana', ...pii })).allowed).toBe(false);
    const actions = (await auditTrail(db(), { subject: 'feature_view:customer_profile' })).map((e) => e.action);
    expect(actions).toEqual(['access.denied', 'access.allowed', 'access.denied', 'access.denied']);
    expect((await auditTrail(db(), { subject: 'feature_view:*' })).map((e) => e.action)).toEqual(['access.granted', 'access.revoked']);
  });

  it('leaves non-sensitive resources open (not audited), refuses disabled principals, always needs a grant to approve', async () => {
    const open = await decideAccess(db(), { principal: 'someone-unknown', permission: 'read', resource: 'dataset:raw_flights', sensitivity: 'internal' });
    expect(open).toEqual({ allowed: true, reason: 'dataset:raw_flights is not sensitive', audited: false });
    expect((await decideAccess(db(), { principal: 'ana', permission: 'approve', resource: 'approval:apr-1' })).allowed).toBe(false);
    await createPrincipal(db(), { name: 'gone', roles: ['engineer'], actor: 'admin' });
    await grantAccess(db(), { role: 'engineer', permission: '*', resource: 'model:churn', actor: 'admin' });
    expect((await decideAccess(db(), { principal: 'gone', permission: 'deploy', resource: 'model:churn', sensitivity: 'confidential' })).allowed).toBe(true);
    await setDisabled(db(), { name: 'gone', disabled: true, actor: 'admin' });
    await expect(authorize(db(), { principal: 'gone', permission: 'deploy', resource: 'model:churn', sensitivity: 'confidential' })).rejects.toThrow(/gone may not deploy model:churn \(confidential\): gone is disabled/);
    await expect(grantAccess(db(), { role: 'engineer', permission: 'train', resource: 'model:x', actor: 'admin' })).rejects.toThrow(ValidationError);
    await expect(grantAccess(db(), { role: 'engineer', permission: 'read', resource: 'table:x', actor: 'admin' })).rejects.toThrow(/"table:x" is not a resource/);
  });

  it('makes the step runtime check the run principal before the step runs, and records the denied attempt', async () => {
    let ran = 0;
    const steps: StepImplementations = { train: { run: async () => ({ ok: ++ran }), access: () => [pii] } };
    const authorizer: StepAuthorizer = async (principal, requirement, context) => {
      await authorize(db(), { principal, ...requirement, context });
    };
    const request = { runId: 'wf-access', pipeline: 'access-test', step: 'train', uses: 'train', version: '1', input: {}, cache: false, startedBy: 'ana' };
    const context = { attempt: 1, heartbeat: () => {}, signal: new AbortController().signal };
    await expect(runStepWithCache(db(), steps, request, context, createLineageSink(db()), authorizer)).rejects.toThrow(/ana may not train-on feature_view:customer_profile/);
    expect(ran).toBe(0);
    const events = (await allLineageEvents(db())).filter((e) => e.jobName === 'access-test.train');
    expect(events.map((e) => e.eventType)).toEqual(['START', 'FAIL']);
    const trail = await auditTrail(db(), { subject: 'feature_view:customer_profile' });
    expect(trail.at(-1)).toMatchObject({ actor: 'ana', action: 'access.denied', details: { context: 'access-test.train' } });

    await grantAccess(db(), { role: 'engineer', permission: 'train-on', resource: 'feature_view:customer_profile', actor: 'admin' });
    const done = await runStepWithCache(db(), steps, request, { ...context, attempt: 2 }, createLineageSink(db()), authorizer);
    expect(done.output).toEqual({ ok: 1 });
    // A run nobody started (no principal) is not checked: schedules and tests run as the system.
    await runStepWithCache(db(), steps, { ...request, runId: 'wf-system', startedBy: undefined }, context, undefined, authorizer);
    expect(ran).toBe(2);
  });
});
