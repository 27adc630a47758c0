/**
 * Feature definitions in code: entities (what features describe, by their join keys), feature
 * views (typed feature rows with event and created times, a TTL, an owner and tags such as
 * `sensitivity: 'pii'`), on-demand views (a TypeScript function over other features, applied the same
 * way offline and online) and feature services (the named, versioned set of features a model
 * consumes). `apply` (registry.ts) registers them; every read resolves features through them.
 *
 * @example
 * const station = entity({ name: 'station', joinKeys: { station: 'string' } });
 * const weather = featureView({
 *   name: 'daily_weather', entities: [station], eventTimestamp: 'observed_at', ttl: '2d',
 *   schema: { precipitation: 'float64', temp_max: 'float64', weather: 'string' }, owner: 'weather-team', description: 'Daily weather per station',
 *   source: { kind: 'file', path: 'vega:seattle-weather.csv', constants: { station: 'SEA' }, timestamp: { column: 'date', offset: '1d' } },
 * });
 * const service = featureService({ name: 'rain_forecast', version: 1, features: [weather] });
 */
import { createHash } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors.js';

export const VALUE_TYPES = ['string', 'int32', 'int64', 'float64', 'bool', 'timestamp'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];
export const KEY_TYPES = ['string', 'int32', 'int64'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** A feature value as transforms and online reads see it (int64 as a number, timestamps as epoch ms). */
export type FeatureValue = string | number | boolean | null;

export interface JoinKey {
  name: string;
  type: KeyType;
}

export interface Entity {
  readonly kind: 'entity';
  readonly name: string;
  readonly joinKeys: readonly JoinKey[];
  readonly description: string;
}

export interface FeatureField {
  name: string;
  type: ValueType;
  description: string;
  tags: Readonly<Record<string, string>>;
}

/** Formats a file source can be read from (files.ts). */
export const FILE_FORMATS = ['csv', 'json', 'jsonl', 'parquet', 'arrow'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/**
 * A view whose rows are read from a file (src/features/files.ts): the path (relative to the project's
 * folder), its format (default from the extension), renames (`view column -> file column`), constants
 * for columns the file lacks (e.g. a key `station: 'SEA'`), and the column giving the event time, plus
 * an offset when a row's values are known only later (a day's observations at the end of the day).
 */
export interface FileFeatureSource {
  kind: 'file';
  path: string;
  format?: FileFormat;
  columns?: Readonly<Record<string, string>>;
  constants?: Readonly<Record<string, string | number | boolean>>;
  timestamp?: { column?: string; offset?: number | string };
}

/** Where a view's rows come from: documentation for people, and the default of `steward` commands. */
export type FeatureSource =
  | { kind: 'parquet'; path: string }
  | { kind: 'arrow'; path: string }
  | FileFeatureSource
  | { kind: 'pipeline'; name: string; description?: string };

export interface FeatureView {
  readonly kind: 'featureView';
  readonly name: string;
  readonly entities: readonly Entity[];
  /** The entities' join keys, in order: the view's key columns. */
  readonly joinKeys: readonly JoinKey[];
  readonly source: FeatureSource;
  readonly features: readonly FeatureField[];
  readonly eventTimestamp: string;
  readonly createdTimestamp: string | undefined;
  /** Rows whose event is this many milliseconds or more before the time asked about are expired. */
  readonly ttlMs: number | undefined;
  readonly owner: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly online: boolean;
  /** A reference to one of this view's features, e.g. for an on-demand view's inputs. */
  feature(name: string): FeatureRef;
  /** This view with only some of its features, for a feature service. */
  select(...features: string[]): FeatureProjection;
}

export interface FeatureRef {
  view: FeatureView;
  feature: string;
}

export interface FeatureProjection {
  view: FeatureView | OnDemandFeatureView;
  features: readonly string[];
}

export type TransformInputs = Record<string, FeatureValue>;
export type TransformOutputs = Record<string, FeatureValue>;

export interface OnDemandFeatureView {
  readonly kind: 'onDemandFeatureView';
  readonly name: string;
  /** Argument name -> the feature it reads. */
  readonly inputs: Readonly<Record<string, FeatureRef>>;
  readonly features: readonly FeatureField[];
  /** Applied to one row at a time, offline and online alike; must be pure. */
  readonly transform: (inputs: TransformInputs) => TransformOutputs;
  readonly owner: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  select(...features: string[]): FeatureProjection;
}

export interface FeatureService {
  readonly kind: 'featureService';
  readonly name: string;
  readonly version: number;
  readonly projections: readonly FeatureProjection[];
  readonly owner: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
}

export type Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService;
export type DefinitionKind = Definition['kind'];

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('__')) {
    throw new ValidationError(
      `${what} name "${name}" is not allowed: use lower-case letters, digits and single underscores, starting with a letter (at most 63 characters).`,
      { name },
    );
  }
}

/** Durations as milliseconds or text: `90s`, `15m`, `1h`, `7d`, `2w`. */
export function parseDuration(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (value > 0 && Number.isFinite(value)) return value;
  } else {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(value.trim());
    if (match) {
      const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'ms'];
      const ms = Number(match[1]) * unit;
      if (ms > 0) return ms;
    }
  }
  throw new ValidationError(`${what} must be a positive duration such as 30m, 1h or 7d (or milliseconds), got ${JSON.stringify(value)}.`, { value });
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function checkTags(tags: Record<string, string> | undefined, where: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) {
    if (typeof v !== 'string') throw new ValidationError(`${where}: tag "${k}" must be a string, got ${JSON.stringify(v)}.`, { tag: k });
    out[k] = v;
  }
  return Object.freeze(out);
}

export function entity(input: { name: string; joinKeys: Record<string, KeyType>; description?: string }): Entity {
  checkName('Entity', input.name);
  const joinKeys = Object.entries(input.joinKeys).map(([name, type]) => {
    checkName(`Join key of entity "${input.name}"`, name);
    if (!KEY_TYPES.includes(type)) {
      throw new ValidationError(`Join key "${name}" of entity "${input.name}" has type "${type}"; join keys are ${KEY_TYPES.join(', ')}.`, { column: name });
    }
    return { name, type };
  });
  if (joinKeys.length === 0) throw new ValidationError(`Entity "${input.name}" needs at least one join key.`, { entity: input.name });
  return Object.freeze({ kind: 'entity', name: input.name, joinKeys: Object.freeze(joinKeys), description: input.description ?? '' });
}

type FieldInput = ValueType | { type: ValueType; description?: string; tags?: Record<string, string> };

function fields(schema: Record<string, FieldInput>, where: string): FeatureField[] {
  return Object.entries(schema).map(([name, spec]) => {
    checkName(`Feature of ${where}`, name);
    const { type, description, tags } = typeof spec === 'string' ? { type: spec, description: undefined, tags: undefined } : spec;
    if (!VALUE_TYPES.includes(type)) {
      throw new ValidationError(`Feature "${name}" of ${where} has type "${String(type)}"; types are ${VALUE_TYPES.join(', ')}.`, { column: name });
    }
    return { name, type, description: description ?? '', tags: checkTags(tags, `Feature "${name}" of ${where}`) };
  });
}

function projection(view: FeatureView | OnDemandFeatureView, names: string[]): FeatureProjection {
  for (const name of names) requireFeature(view, name);
  if (names.length === 0) throw new ValidationError(`Select at least one feature of "${view.name}".`, { view: view.name });
  return { view, features: Object.freeze([...names]) };
}

function requireFeature(view: FeatureView | OnDemandFeatureView, name: string): FeatureField {
  const field = view.features.find((f) => f.name === name);
  if (!field) {
    throw new NotFoundError(`Feature view "${view.name}" has no feature "${name}"; it has ${view.features.map((f) => f.name).join(', ')}.`, {
      view: view.name,
      feature: name,
    });
  }
  return field;
}

export function featureView(input: {
  name: string;
  entities: Entity[];
  schema: Record<string, FieldInput>;
  eventTimestamp: string;
  createdTimestamp?: string;
  ttl?: number | string;
  source: FeatureSource;
  owner: string;
  description: string;
  tags?: Record<string, string>;
  online?: boolean;
}): FeatureView {
  const where = `feature view "${input.name}"`;
  checkName('Feature view', input.name);
  if (input.entities.length === 0) throw new ValidationError(`The ${where} needs at least one entity.`, { view: input.name });
  const joinKeys = input.entities.flatMap((e) => e.joinKeys);
  const features = fields(input.schema, where);
  if (features.length === 0) throw new ValidationError(`The ${where} declares no features.`, { view: input.name });
  checkName(`Event timestamp column of ${where}`, input.eventTimestamp);
  if (input.createdTimestamp !== undefined) checkName(`Created timestamp column of ${where}`, input.createdTimestamp);
  const seen = new Map<string, string>();
  const columns: [string, string][] = [
    ...joinKeys.map((k) => [k.name, 'join key'] as [string, string]),
    [input.eventTimestamp, 'event timestamp'],
    ...(input.createdTimestamp ? [[input.createdTimestamp, 'created timestamp'] as [string, string]] : []),
    ...features.map((f) => [f.name, 'feature'] as [string, string]),
  ];
  for (const [column, role] of columns) {
    const other = seen.get(column);
    if (other) throw new ValidationError(`In the ${where}, column "${column}" is both a ${other} and a ${role}.`, { view: input.name, column });
    seen.set(column, role);
  }
  if (!input.owner?.trim()) throw new ValidationError(`The ${where} needs an owner (a person or team to ask about it).`, { view: input.name });
  const source = input.source?.kind === 'file' ? checkFileSource(input.source, where, input.name, seen) : input.source;
  const view: FeatureView = Object.freeze({
    kind: 'featureView' as const,
    name: input.name,
    entities: Object.freeze([...input.entities]),
    joinKeys: Object.freeze(joinKeys),
    source: Object.freeze({ ...source }),
    features: Object.freeze(features),
    eventTimestamp: input.eventTimestamp,
    createdTimestamp: input.createdTimestamp,
    ttlMs: input.ttl === undefined ? undefined : parseDuration(input.ttl, `The TTL of ${where}`),
    owner: input.owner,
    description: input.description ?? '',
    tags: checkTags(input.tags, `The ${where}`),
    online: input.online ?? true,
    feature: (name: string): FeatureRef => (requireFeature(view, name), { view, feature: name }),
    select: (...names: string[]) => projection(view, names),
  });
  return view;
}

/** A file source's declaration checked against the view's columns (`roles`: column -> its role). */
function checkFileSource(source: FileFeatureSource, where: string, view: string, roles: ReadonlyMap<string, string>): FileFeatureSource {
  const fail = (problem: string): never => {
    throw new ValidationError(`The file source of the ${where} ${problem}`, { view });
  };
  if (typeof source.path !== 'string' || !source.path.trim()) fail('needs a path, e.g. { kind: \'file\', path: \'data/weather.csv\' }.');
  if (source.format !== undefined && !FILE_FORMATS.includes(source.format)) fail(`has format ${JSON.stringify(source.format)}; formats are ${FILE_FORMATS.join(', ')}.`);
  const known = `the view's columns are ${[...roles.keys()].join(', ')}`;
  for (const [column, fileColumn] of Object.entries(source.columns ?? {})) {
    if (!roles.has(column)) fail(`renames "${column}", which is not a column of the view; ${known}.`);
    if (typeof fileColumn !== 'string' || !fileColumn) fail(`renames "${column}" to ${JSON.stringify(fileColumn)}; give the file's column name.`);
  }
  for (const [column, value] of Object.entries(source.constants ?? {})) {
    if (!roles.has(column)) fail(`sets constant "${column}", which is not a column of the view; ${known}.`);
    if (!['string', 'number', 'boolean'].includes(typeof value)) fail(`sets constant "${column}" to ${JSON.stringify(value)}; constants are strings, numbers or booleans.`);
    if (source.columns?.[column] !== undefined) fail(`both renames and sets constant "${column}"; keep one.`);
  }
  const timestamp = source.timestamp;
  let offset: number | string | undefined;
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'object' || timestamp === null) fail('has a timestamp that is not an object such as { column: \'date\', offset: \'1d\' }.');
    if (timestamp.column !== undefined && (typeof timestamp.column !== 'string' || !timestamp.column)) fail(`names timestamp column ${JSON.stringify(timestamp.column)}; give the file's column name.`);
    if (timestamp.offset !== undefined && timestamp.offset !== 0 && timestamp.offset !== '0') {
      parseDuration(timestamp.offset, `The timestamp offset of the file source of the ${where}`);
      offset = timestamp.offset;
    }
  }
  return {
    kind: 'file',
    path: source.path,
    ...(source.format ? { format: source.format } : {}),
    ...(source.columns ? { columns: Object.freeze({ ...source.columns }) } : {}),
    ...(source.constants ? { constants: Object.freeze({ ...source.constants }) } : {}),
    ...(timestamp ? { timestamp: Object.freeze({ ...(timestamp.column ? { column: timestamp.column } : {}), ...(offset !== undefined ? { offset } : {}) }) } : {}),
  };
}

export function onDemandFeatureView(input: {
  name: string;
  inputs: Record<string, FeatureRef>;
  schema: Record<string, FieldInput>;
  transform: (inputs: TransformInputs) => TransformOutputs;
  owner: string;
  description: string;
  tags?: Record<string, string>;
}): OnDemandFeatureView {
  const where = `on-demand feature view "${input.name}"`;
  checkName('On-demand feature view', input.name);
  if (Object.keys(input.inputs).length === 0) throw new ValidationError(`The ${where} reads no features.`, { view: input.name });
  if (typeof input.transform !== 'function') throw new ValidationError(`The ${where} needs a transform function.`, { view: input.name });
  const view: OnDemandFeatureView = Object.freeze({
    kind: 'onDemandFeatureView' as const,
    name: input.name,
    inputs: Object.freeze({ ...input.inputs }),
    features: Object.freeze(fields(input.schema, where)),
    transform: input.transform,
    owner: input.owner,
    description: input.description ?? '',
    tags: checkTags(input.tags, `The ${where}`),
    select: (...names: string[]) => projection(view, names),
  });
  return view;
}

export function featureService(input: {
  name: string;
  version: number;
  features: Array<FeatureView | OnDemandFeatureView | FeatureProjection>;
  owner?: string;
  description?: string;
  tags?: Record<string, string>;
}): FeatureService {
  checkName('Feature service', input.name);
  if (!Number.isInteger(input.version) || input.version < 1) {
    throw new ValidationError(`Feature service "${input.name}" needs a version 1, 2, ...; got ${input.version}.`, { service: input.name });
  }
  const projections = input.features.map((f) => ('kind' in f ? { view: f, features: f.features.map((x) => x.name) } : f));
  const views = new Set<string>();
  for (const p of projections) {
    if (views.has(p.view.name)) {
      throw new ValidationError(`Feature service "${input.name}" lists feature view "${p.view.name}" twice; select all its features at once.`, {
        service: input.name,
        view: p.view.name,
      });
    }
    views.add(p.view.name);
  }
  if (projections.length === 0) throw new ValidationError(`Feature service "${input.name}" has no features.`, { service: input.name });
  return Object.freeze({
    kind: 'featureService' as const,
    name: input.name,
    version: input.version,
    projections: Object.freeze(projections),
    owner: input.owner ?? '',
    description: input.description ?? '',
    tags: checkTags(input.tags, `Feature service "${input.name}"`),
  });
}

/** The output column of a feature: `view__feature`, offline and online alike. */
export const outputName = (view: string, feature: string) => `${view}__${feature}`;

/** The sensitivity of a feature: its own `sensitivity` tag, else its view's, else `unclassified`. */
export function sensitivityOf(view: FeatureView | OnDemandFeatureView, feature: string): string {
  return requireFeature(view, feature).tags.sensitivity ?? view.tags.sensitivity ?? 'unclassified';
}

/** The JSON form of a definition that the registry stores and hashes (references by name). */
export function specOf(definition: Definition): Record<string, unknown> {
  switch (definition.kind) {
    case 'entity':
      return { kind: definition.kind, name: definition.name, joinKeys: definition.joinKeys, description: definition.description };
    case 'featureView':
      return {
        kind: definition.kind,
        name: definition.name,
        entities: definition.entities.map((e) => e.name),
        joinKeys: definition.joinKeys,
        source: definition.source,
        features: definition.features,
        eventTimestamp: definition.eventTimestamp,
        createdTimestamp: definition.createdTimestamp ?? null,
        ttlMs: definition.ttlMs ?? null,
        owner: definition.owner,
        description: definition.description,
        tags: definition.tags,
        online: definition.online,
      };
    case 'onDemandFeatureView':
      return {
        kind: definition.kind,
        name: definition.name,
        inputs: Object.fromEntries(Object.entries(definition.inputs).map(([arg, ref]) => [arg, `${ref.view.name}:${ref.feature}`])),
        features: definition.features,
        transform: definition.transform.toString(),
        owner: definition.owner,
        description: definition.description,
        tags: definition.tags,
      };
    case 'featureService':
      return {
        kind: definition.kind,
        name: definition.name,
        version: definition.version,
        features: definition.projections.map((p) => ({ view: p.view.name, features: p.features })),
        owner: definition.owner,
        description: definition.description,
        tags: definition.tags,
      };
  }
}

/** JSON with object keys sorted, so equal specs hash equally whatever order they were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function hashSpec(spec: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** A set of definitions by kind and name, with every reference checked to point inside it. */
export interface FeatureRepository {
  readonly definitions: readonly Definition[];
  readonly entities: ReadonlyMap<string, Entity>;
  readonly views: ReadonlyMap<string, FeatureView>;
  readonly onDemandViews: ReadonlyMap<string, OnDemandFeatureView>;
  readonly services: ReadonlyMap<string, FeatureService>;
}

/**
 * Collects definitions, adding what they reference (a view's entities, a service's views), and refuses
 * two different definitions under one name, naming the first column or field where they differ.
 */
export function featureRepository(definitions: readonly Definition[]): FeatureRepository {
  const byKey = new Map<string, Definition>();
  const add = (d: Definition) => {
    const key = `${d.kind}:${d.name}`;
    const existing = byKey.get(key);
    if (existing === d) return;
    if (existing) {
      const difference = firstDifference(specOf(existing), specOf(d));
      if (difference === undefined) return;
      throw new ValidationError(`Two different definitions of ${describeKind(d.kind)} "${d.name}": they differ in ${difference}.`, {
        kind: d.kind,
        name: d.name,
        difference,
      });
    }
    byKey.set(key, d);
    if (d.kind === 'featureView') d.entities.forEach(add);
    if (d.kind === 'onDemandFeatureView') Object.values(d.inputs).forEach((ref) => add(ref.view));
    if (d.kind === 'featureService') d.projections.forEach((p) => add(p.view));
  };
  definitions.forEach(add);
  const all = [...byKey.values()];
  const of = <K extends DefinitionKind>(kind: K) =>
    new Map(all.filter((d): d is Extract<Definition, { kind: K }> => d.kind === kind).map((d) => [d.name, d] as const));
  const views = of('featureView');
  const onDemandViews = of('onDemandFeatureView');
  for (const name of views.keys()) {
    if (onDemandViews.has(name)) throw new ValidationError(`"${name}" is both a feature view and an on-demand feature view; view names must be unique.`, { name });
  }
  const order: DefinitionKind[] = ['entity', 'featureView', 'onDemandFeatureView', 'featureService'];
  return {
    definitions: all.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.name < b.name ? -1 : 1)),
    entities: of('entity'),
    views,
    onDemandViews,
    services: of('featureService'),
  };
}

export function describeKind(kind: DefinitionKind): string {
  return { entity: 'entity', featureView: 'feature view', onDemandFeatureView: 'on-demand feature view', featureService: 'feature service' }[kind];
}

/** Where two specs first differ, for messages: `feature "x" (type float64 vs int32)` or a field name. */
export function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string | undefined {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    if (canonicalJson(a[key]) === canonicalJson(b[key])) continue;
    if ((key === 'features' || key === 'joinKeys') && Array.isArray(a[key]) && Array.isArray(b[key])) {
      const left = new Map((a[key] as FeatureField[]).map((f) => [f.name, f]));
      const right = new Map((b[key] as FeatureField[]).map((f) => [f.name, f]));
      for (const [name, field] of left) {
        const other = right.get(name);
        if (!other) return `column "${name}" (only in the first)`;
        if (field.type !== other.type) return `column "${name}" (type ${field.type} vs ${other.type})`;
        if (canonicalJson(field) !== canonicalJson(other)) return `column "${name}" (description or tags)`;
      }
      for (const name of right.keys()) if (!left.has(name)) return `column "${name}" (only in the second)`;
      return `${key} (order)`;
    }
    return key;
  }
  return undefined;
}

/** A feature service from the repository, or a clear error listing the known ones. */
export function resolveService(repo: FeatureRepository, service: FeatureService | string): FeatureService {
  if (typeof service !== 'string') return featureRepository([...repo.definitions, service]).services.get(service.name)!;
  const found = repo.services.get(service);
  if (!found) {
    throw new NotFoundError(`Unknown feature service "${service}". Known: ${[...repo.services.keys()].join(', ') || 'none (define one and run steward apply)'}.`, {
      service,
    });
  }
  return found;
}

/** The feature views a service reads: its own and those its on-demand views take inputs from. */
export function viewsOfService(service: FeatureService): FeatureView[] {
  const views = new Map<string, FeatureView>();
  for (const p of service.projections) {
    if (p.view.kind === 'featureView') views.set(p.view.name, p.view);
    else for (const ref of Object.values(p.view.inputs)) if (!views.has(ref.view.name)) views.set(ref.view.name, ref.view);
  }
  return [...views.values()];
}

/**
 * Runs an on-demand view's transform on one row and checks its outputs against the declared schema:
 * every declared output present, numbers finite (or null), types as declared.
 */
export function applyTransform(view: OnDemandFeatureView, inputs: TransformInputs): TransformOutputs {
  const outputs = view.transform(inputs);
  const checked: TransformOutputs = {};
  for (const field of view.features) {
    const value = outputs?.[field.name];
    if (value === undefined) {
      throw new ValidationError(`On-demand feature view "${view.name}" returned no "${field.name}"; return null for a missing value.`, {
        view: view.name,
        feature: field.name,
      });
    }
    checked[field.name] = checkValue(view.name, field, value);
  }
  return checked;
}

function checkValue(view: string, field: FeatureField, value: FeatureValue): FeatureValue {
  if (value === null) return null;
  const ok =
    field.type === 'string'
      ? typeof value === 'string'
      : field.type === 'bool'
        ? typeof value === 'boolean'
        : typeof value === 'number' && (field.type === 'float64' || field.type === 'timestamp' || Number.isInteger(value));
  if (!ok) {
    throw new ValidationError(`On-demand feature view "${view}" returned ${JSON.stringify(value)} for "${field.name}", declared ${field.type}.`, {
      view,
      feature: field.name,
    });
  }
  // Non-finite numbers become null, as ingestion with nonFinite: 'null' stores them.
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
