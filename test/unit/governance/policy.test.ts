/**
 * The pure parts of governed sign-offs: policies checked when a pipeline is defined, conditional
 * requirements evaluated against a candidate's facts, and the audit chain's canonical hashing.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH } from '../../../src/audit/index.js';
import { factsFromMetadata, requiredRoles } from '../../../src/governance/approvals.js';
import { approvalGate } from '../../../src/pipeline/definition.js';

describe('approval policies', () => {
  it('fills the defaults and takes the deadline as the gate timeout', () => {
    const gate = approvalGate('signoff', { subject: 'x', policy: { roles: { technical: 2 }, deadline: '3 days' } });
    expect(gate.timeout).toBe('3 days');
    expect(gate.policy).toEqual({ roles: { technical: 2 }, deadline: '3 days', separationOfDuties: true, onDeadline: 'reject' });
  });

  it.each([
    [{ roles: {} }, 'requires no role'],
    [{ roles: { Technical: 1 } }, 'role "Technical" must be lowercase'],
    [{ roles: { technical: 0 } }, 'needs a quorum of at least 1, got 0'],
    [{ roles: { technical: 1 }, deadline: 'soon' }, '"soon" is not a duration'],
    [{ roles: { technical: 1 }, conditions: [{ role: 'ethics', quorum: 1.5, when: { piiFeatures: true as const } }] }, 'role "ethics" needs a quorum of at least 1, got 1.5'],
  ])('refuses %j naming the problem', (policy, message) => {
    expect(() => approvalGate('signoff', { subject: 'x', policy: policy as never })).toThrow(message);
  });

  it('adds conditional reviews only when the facts call for them, and says why', () => {
    const policy = {
      roles: { technical: 1 },
      conditions: [
        { role: 'compliance', when: { piiFeatures: true as const } },
        { role: 'ethics', quorum: 2, when: { fairnessGapAbove: 0.1 } },
      ],
    };
    expect(requiredRoles(policy, { piiFeatures: [], fairnessGap: 0.05 })).toEqual({ required: { technical: 1 }, conditions: [] });
    expect(requiredRoles(policy, { piiFeatures: ['email'], fairnessGap: 0.25 })).toEqual({
      required: { technical: 1, compliance: 1, ethics: 2 },
      conditions: [
        { role: 'compliance', quorum: 1, because: 'the model uses pii features (email)' },
        { role: 'ethics', quorum: 2, because: 'the fairness gap 0.250 exceeds 0.1' },
      ],
    });
  });

  it('reads pii features and the fairness gap from a version’s card metadata', () => {
    const facts = factsFromMetadata({
      features: [{ name: 'origin', sensitivity: 'public' }, { name: 'email', sensitivity: 'pii' }, { name: 'phone', tags: ['pii'] }],
      fairness: { maxEqualOpportunityGap: 0.139, minDisparateImpactRatio: 0.7 },
    });
    expect(facts).toEqual({ piiFeatures: ['email', 'phone'], fairnessGap: 0.139 });
    expect(factsFromMetadata({})).toEqual({ piiFeatures: [] });
  });
});

describe('audit chain hashing', () => {
  it('hashes the same content the same whatever the key order, and differently for any change', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    const entry = { seq: 1, at: new Date('2026-01-01T00:00:00Z'), actor: 'alice', action: 'approval.decision', subject: 'approval:apr-1', details: { b: 2, a: 1 } };
    const hash = entryHash(GENESIS_HASH, entry);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entryHash(GENESIS_HASH, { ...entry, details: { a: 1, b: 2 } })).toBe(hash);
    expect(entryHash(GENESIS_HASH, { ...entry, actor: 'mallory' })).not.toBe(hash);
    expect(entryHash('f'.repeat(64), entry)).not.toBe(hash);
  });
});
