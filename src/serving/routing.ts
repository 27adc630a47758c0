/**
 * How a model name's traffic is split between its loaded versions. A policy is plain JSON (the
 * admin API and a deployment workflow set it); a Router is its compiled, immutable form, swapped in
 * one assignment, so a request sees either the old policy or the new one, never a mixture.
 *
 * - single:  every request to one version.
 * - canary:  `percent`% of requests to the candidate, the rest to the primary.
 * - ab:      a fixed split over named arms by weight (A/B/N); each arm is logged by name.
 * - shadow:  the primary answers every request; `percent`% (default 100) are also scored by the
 *            shadow version afterwards, off the response path, and both answers are logged.
 *
 * The split is deterministic: a request's arm is a hash of its routing key (the request id unless
 * the caller sends one, e.g. a user id for sticky assignment), so a retried request lands where it
 * landed before.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

const version = z.number().int().positive();
const percent = z.number().min(0).max(100);
const armName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'an arm name is 1 to 40 lowercase letters, digits, - or _, starting with a letter')
  .refine((n) => !['primary', 'candidate', 'shadow', 'direct'].includes(n), 'primary, candidate, shadow and direct are reserved arm names');

export const routingPolicySchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('single'), version }),
  z.strictObject({ strategy: z.literal('canary'), primary: version, candidate: version, percent }),
  z.strictObject({
    strategy: z.literal('ab'),
    arms: z
      .array(z.strictObject({ name: armName, version, weight: z.number().positive().finite() }))
      .min(2)
      .max(16),
  }),
  z.strictObject({ strategy: z.literal('shadow'), primary: version, shadow: version, percent: percent.optional() }),
]);

export type RoutingPolicy = z.infer<typeof routingPolicySchema>;

export function parseRoutingPolicy(value: unknown): RoutingPolicy {
  const parsed = routingPolicySchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
    throw new ValidationError(
      `Invalid routing policy: ${problems.join('; ')}. Use { strategy: 'single', version } | { strategy: 'canary', primary, candidate, percent } | ` +
        `{ strategy: 'ab', arms: [{ name, version, weight }, ...] } | { strategy: 'shadow', primary, shadow, percent? }.`,
      { problems },
    );
  }
  const policy = parsed.data;
  if (policy.strategy === 'canary' && policy.primary === policy.candidate) throw new ValidationError('A canary needs a candidate version different from the primary.');
  if (policy.strategy === 'shadow' && policy.primary === policy.shadow) throw new ValidationError('A shadow needs a version different from the primary.');
  if (policy.strategy === 'ab' && new Set(policy.arms.map((a) => a.name)).size !== policy.arms.length) throw new ValidationError('A/B arm names must be unique.');
  return policy;
}

/** Every version a policy sends traffic to. */
export function versionsOf(policy: RoutingPolicy): number[] {
  switch (policy.strategy) {
    case 'single':
      return [policy.version];
    case 'canary':
      return [policy.primary, policy.candidate];
    case 'ab':
      return [...new Set(policy.arms.map((a) => a.version))];
    case 'shadow':
      return [policy.primary, policy.shadow];
  }
}

/** The version that answers when no split applies: the single version or the primary; A/B has none. */
export function primaryOf(policy: RoutingPolicy): number | undefined {
  return policy.strategy === 'single' ? policy.version : policy.strategy === 'ab' ? undefined : policy.primary;
}

/** The same policy with its primary replaced (following an alias that moved). A/B has no primary. */
export function withPrimary(policy: RoutingPolicy, version: number): RoutingPolicy {
  switch (policy.strategy) {
    case 'single':
      return { strategy: 'single', version };
    case 'canary':
      return version === policy.candidate ? { strategy: 'single', version } : { ...policy, primary: version };
    case 'shadow':
      return version === policy.shadow ? { strategy: 'single', version } : { ...policy, primary: version };
    case 'ab':
      throw new ValidationError('An A/B split has no primary to replace; set a new routing policy instead.');
  }
}

/**
 * 32-bit FNV-1a of the key with murmur3's finalizer, as a fraction of 2^32: uniform enough that
 * sequential ids ("req-1", "req-2") split like random ones.
 */
export function routingHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface Arm<T> {
  /** `primary`, `candidate`, or the A/B arm's name. */
  name: string;
  target: T;
}

const SCALE = 2 ** 32;

/** A compiled policy over resolved targets (loaded versions). */
export class Router<T> {
  private readonly arms: Arm<T>[];
  /** Upper bounds of each arm's share of [0, 2^32). */
  private readonly bounds: number[];
  readonly shadow: Arm<T> | undefined;
  private readonly shadowBound: number;

  constructor(
    readonly policy: RoutingPolicy,
    resolve: (version: number) => T,
  ) {
    const arm = (name: string, v: number): Arm<T> => ({ name, target: resolve(v) });
    switch (policy.strategy) {
      case 'single':
        this.arms = [arm('primary', policy.version)];
        this.bounds = [SCALE];
        break;
      case 'canary': {
        const cut = Math.round((policy.percent / 100) * SCALE);
        this.arms = [arm('candidate', policy.candidate), arm('primary', policy.primary)];
        this.bounds = [cut, SCALE];
        break;
      }
      case 'ab': {
        const total = policy.arms.reduce((s, a) => s + a.weight, 0);
        let acc = 0;
        this.arms = policy.arms.map((a) => arm(a.name, a.version));
        this.bounds = policy.arms.map((a, i) => (i === policy.arms.length - 1 ? SCALE : Math.round(((acc += a.weight) / total) * SCALE)));
        break;
      }
      case 'shadow':
        this.arms = [arm('primary', policy.primary)];
        this.bounds = [SCALE];
        break;
    }
    this.shadow = policy.strategy === 'shadow' ? arm('shadow', policy.shadow) : undefined;
    this.shadowBound = policy.strategy === 'shadow' ? Math.round(((policy.percent ?? 100) / 100) * SCALE) : 0;
  }

  /** The arm a routing key lands on. */
  pick(key: string): Arm<T> {
    if (this.arms.length === 1) return this.arms[0]!;
    const h = routingHash(key);
    for (let i = 0; i < this.bounds.length; i++) if (h < this.bounds[i]!) return this.arms[i]!;
    return this.arms[this.arms.length - 1]!;
  }

  /** Whether the shadow scores a copy of this request. The hash is salted so the shadow sample is independent of any other split. */
  shadows(key: string): boolean {
    if (!this.shadow) return false;
    return this.shadowBound >= SCALE || routingHash(`shadow:${key}`) < this.shadowBound;
  }

  /** Every target with the arm names it serves under (shadow included). */
  targets(): Arm<T>[] {
    return this.shadow ? [...this.arms, this.shadow] : [...this.arms];
  }
}
