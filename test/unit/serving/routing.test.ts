import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { parseRoutingPolicy, primaryOf, Router, routingHash, versionsOf, withPrimary, type RoutingPolicy } from '../../../src/serving/routing.js';

const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);

function shares(policy: RoutingPolicy): Record<string, number> {
  const router = new Router(policy, (v) => v);
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const arm = router.pick(id);
    counts[`${arm.name}:v${arm.target}`] = (counts[`${arm.name}:v${arm.target}`] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / ids.length]));
}

describe('routing policies', () => {
  it('parses the four strategies and refuses malformed ones with what is wrong', () => {
    expect(parseRoutingPolicy({ strategy: 'canary', primary: 3, candidate: 4, percent: 5 })).toEqual({ strategy: 'canary', primary: 3, candidate: 4, percent: 5 });
    const refused = (value: unknown) => {
      try {
        parseRoutingPolicy(value);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ strategy: 'canary', primary: 3, candidate: 4, percent: 150 })).toMatch(/percent: Too big/i);
    expect(refused({ strategy: 'canary', primary: 3, candidate: 3, percent: 5 })).toBe('A canary needs a candidate version different from the primary.');
    expect(refused({ strategy: 'single', version: 1, extra: true })).toMatch(/Unrecognized key/i);
    expect(refused({ strategy: 'ab', arms: [{ name: 'a', version: 1, weight: 1 }] })).toMatch(/arms/);
    expect(refused({ strategy: 'ab', arms: [{ name: 'a', version: 1, weight: 1 }, { name: 'a', version: 2, weight: 1 }] })).toBe('A/B arm names must be unique.');
    expect(refused({ strategy: 'ab', arms: [{ name: 'primary', version: 1, weight: 1 }, { name: 'b', version: 2, weight: 1 }] })).toMatch(/reserved/);
    expect(refused({ strategy: 'blue-green' })).toMatch(/Invalid routing policy/);
  });

  it('names the versions a policy needs and its primary', () => {
    expect(versionsOf({ strategy: 'shadow', primary: 1, shadow: 2 })).toEqual([1, 2]);
    expect(versionsOf({ strategy: 'ab', arms: [{ name: 'a', version: 1, weight: 1 }, { name: 'b', version: 1, weight: 2 }] })).toEqual([1]);
    expect(primaryOf({ strategy: 'canary', primary: 3, candidate: 4, percent: 10 })).toBe(3);
    expect(withPrimary({ strategy: 'canary', primary: 3, candidate: 4, percent: 10 }, 5)).toEqual({ strategy: 'canary', primary: 5, candidate: 4, percent: 10 });
    // Promoting the candidate through the alias ends the canary.
    expect(withPrimary({ strategy: 'canary', primary: 3, candidate: 4, percent: 10 }, 4)).toEqual({ strategy: 'single', version: 4 });
    expect(() => withPrimary({ strategy: 'ab', arms: [{ name: 'a', version: 1, weight: 1 }, { name: 'b', version: 2, weight: 1 }] }, 3)).toThrow(ValidationError);
  });
});

describe('the split', () => {
  it('is deterministic: the same routing key always lands on the same arm', () => {
    const router = new Router(parseRoutingPolicy({ strategy: 'canary', primary: 1, candidate: 2, percent: 30 }), (v) => v);
    for (const id of ids.slice(0, 500)) expect(router.pick(id)).toBe(router.pick(id));
    expect(routingHash('req-1')).toBe(routingHash('req-1'));
  });

  it('sends the canary its percentage of sequential request ids', () => {
    const s = shares({ strategy: 'canary', primary: 1, candidate: 2, percent: 5 });
    expect(s['candidate:v2']).toBeGreaterThan(0.04);
    expect(s['candidate:v2']).toBeLessThan(0.06);
    expect(shares({ strategy: 'canary', primary: 1, candidate: 2, percent: 0 })).toEqual({ 'primary:v1': 1 });
    expect(shares({ strategy: 'canary', primary: 1, candidate: 2, percent: 100 })).toEqual({ 'candidate:v2': 1 });
  });

  it('splits A/B/N by weight under the arm names', () => {
    const s = shares({
      strategy: 'ab',
      arms: [
        { name: 'control', version: 1, weight: 2 },
        { name: 'wide', version: 2, weight: 1 },
        { name: 'deep', version: 3, weight: 1 },
      ],
    });
    expect(Object.keys(s).sort()).toEqual(['control:v1', 'deep:v3', 'wide:v2']);
    expect(s['control:v1']).toBeCloseTo(0.5, 1);
    expect(s['wide:v2']).toBeCloseTo(0.25, 1);
    expect(s['deep:v3']).toBeCloseTo(0.25, 1);
  });

  it('answers every shadowed request from the primary and copies the sampled share to the shadow', () => {
    const router = new Router(parseRoutingPolicy({ strategy: 'shadow', primary: 1, shadow: 2, percent: 20 }), (v) => v);
    expect(new Set(ids.map((id) => router.pick(id).target))).toEqual(new Set([1]));
    const copied = ids.filter((id) => router.shadows(id)).length / ids.length;
    expect(copied).toBeGreaterThan(0.18);
    expect(copied).toBeLessThan(0.22);
    expect(new Router(parseRoutingPolicy({ strategy: 'shadow', primary: 1, shadow: 2 }), (v) => v).shadows('any')).toBe(true);
    expect(router.targets().map((t) => `${t.name}:v${t.target}`)).toEqual(['primary:v1', 'shadow:v2']);
  });
});
