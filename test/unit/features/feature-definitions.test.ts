import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import {
  applyTransform,
  entity,
  featureRepository,
  featureService,
  featureView,
  formatDuration,
  hashSpec,
  onDemandFeatureView,
  parseDuration,
  resolveService,
  sensitivityOf,
  specOf,
  viewsOfService,
} from '../../../src/features/definitions.js';

const source = { kind: 'pipeline' as const, name: 't' };
const user = entity({ name: 'user', joinKeys: { user_id: 'int64' } });
const view = (schema: Record<string, 'float64' | 'string'> = { score: 'float64' }, extra: { ttl?: string } = {}) =>
  featureView({ name: 'user_scores', entities: [user], schema, eventTimestamp: 'at', source, owner: 'ml', description: 'scores', tags: { sensitivity: 'internal' }, ...extra });

describe('feature definitions', () => {
  it('parses durations and prints them back', () => {
    expect([parseDuration('90s', 't'), parseDuration('15m', 't'), parseDuration('2h', 't'), parseDuration('7d', 't'), parseDuration(1500, 't')]).toEqual([
      90_000, 900_000, 7_200_000, 604_800_000, 1500,
    ]);
    expect(formatDuration(604_800_000)).toBe('1w');
    expect(formatDuration(36 * 3_600_000)).toBe('36h');
    expect(() => parseDuration('soon', 'The TTL of x')).toThrow('The TTL of x must be a positive duration such as 30m, 1h or 7d (or milliseconds), got "soon".');
    expect(() => parseDuration(-5, 't')).toThrow(ValidationError);
  });

  it('refuses bad names, types and columns used twice, naming them', () => {
    expect(() => entity({ name: 'User', joinKeys: { id: 'string' } })).toThrow('Entity name "User" is not allowed');
    expect(() => entity({ name: 'user', joinKeys: { id: 'float64' as 'string' } })).toThrow('Join key "id" of entity "user" has type "float64"; join keys are string, int32, int64.');
    expect(() => view({ user_id: 'float64' })).toThrow('In the feature view "user_scores", column "user_id" is both a join key and a feature.');
    expect(() => view({ a__b: 'float64' })).toThrow('Feature of feature view "user_scores" name "a__b" is not allowed');
    expect(() => view({ x: 'decimal' as 'float64' })).toThrow('Feature "x" of feature view "user_scores" has type "decimal"');
    expect(() => view().feature('nope')).toThrow(NotFoundError);
  });

  it('hashes the same definition the same way, whatever order it was written in', () => {
    const a = view({ score: 'float64', label: 'string' });
    const b = featureView({ description: 'scores', owner: 'ml', source, eventTimestamp: 'at', schema: { score: 'float64', label: 'string' }, entities: [user], name: 'user_scores', tags: { sensitivity: 'internal' } });
    expect(hashSpec(specOf(a))).toBe(hashSpec(specOf(b)));
    expect(hashSpec(specOf(a))).not.toBe(hashSpec(specOf(view({ score: 'float64', label: 'string' }, { ttl: '1h' }))));
  });

  it('collects referenced definitions and refuses two different ones under one name', () => {
    const scores = view();
    const service = featureService({ name: 'ranking', version: 1, features: [scores] });
    const repo = featureRepository([service]);
    expect(repo.definitions.map((d) => `${d.kind}:${d.name}`)).toEqual(['entity:user', 'featureView:user_scores', 'featureService:ranking']);
    expect(() => featureRepository([scores, view({ score: 'string' })])).toThrow('differ in column "score" (type float64 vs string)');
    expect(() => resolveService(repo, 'other')).toThrow('Unknown feature service "other". Known: ranking.');
  });

  it('applies on-demand transforms with their declared types, non-finite results as null', () => {
    const scores = view();
    const doubled = onDemandFeatureView({
      name: 'doubled',
      inputs: { s: scores.feature('score') },
      schema: { twice: 'float64', ratio: 'float64' },
      transform: ({ s }) => ({ twice: s === null ? null : (s as number) * 2, ratio: s === null ? null : 1 / (s as number) }),
      owner: 'ml',
      description: '',
    });
    expect(applyTransform(doubled, { s: 2 })).toEqual({ twice: 4, ratio: 0.5 });
    expect(applyTransform(doubled, { s: 0 })).toEqual({ twice: 0, ratio: null });
    const broken = onDemandFeatureView({ name: 'broken', inputs: { s: scores.feature('score') }, schema: { out: 'float64' }, transform: () => ({ out: 'x' }), owner: 'ml', description: '' });
    expect(() => applyTransform(broken, { s: 1 })).toThrow('On-demand feature view "broken" returned "x" for "out", declared float64.');
    const service = featureService({ name: 's', version: 2, features: [doubled] });
    expect(viewsOfService(service).map((v) => v.name)).toEqual(['user_scores']);
  });

  it('tells each feature its sensitivity, its own tag first', () => {
    const v = featureView({ name: 'users', entities: [user], schema: { email: { type: 'string', tags: { sensitivity: 'pii' } }, age: 'float64' }, eventTimestamp: 'at', source, owner: 'ml', description: '', tags: { sensitivity: 'internal' } });
    expect([sensitivityOf(v, 'email'), sensitivityOf(v, 'age')]).toEqual(['pii', 'internal']);
  });
});
