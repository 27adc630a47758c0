/**
 * What the ModelHost keeps per model name: the loaded versions with their monitors (live stats and
 * Prometheus counters), the compiled router, the alias it follows, and the reports its admin API
 * returns. Changes to one model run one after another through `exclusive`.
 */
import type { LoadedModel } from './loaded-model.js';
import type { VersionCounters } from './metrics.js';
import type { Router, RoutingPolicy } from './routing.js';
import type { InputSpec, OutputSpec, ScoreSpec } from './signature.js';
import type { StatsSnapshot, WindowedStats } from './stats.js';

export interface LoadReport {
  at: string;
  ok: boolean;
  ref: string;
  version?: number;
  error?: string;
  loadMs?: number;
}

export interface VersionStatus {
  version: number;
  arms: string[];
  artifactUri: string;
  loadedAt: string;
  loadMs: number;
  inputs: readonly InputSpec[];
  outputs: readonly OutputSpec[];
  score: ScoreSpec;
}

export interface ModelStatus {
  name: string;
  ready: boolean;
  routing: RoutingPolicy | null;
  follows: { alias: string; pollMs: number | null } | null;
  versions: VersionStatus[];
  lastLoad: LoadReport | null;
}

export interface ModelStats {
  model: string;
  windowMs: number;
  routing: RoutingPolicy | null;
  versions: Array<StatsSnapshot & { version: number; arms: string[]; loaded: boolean }>;
}

export interface RoutingChange {
  model: string;
  previous: RoutingPolicy | null;
  routing: RoutingPolicy;
  /** Versions loaded for this change. */
  loaded: number[];
  changed: boolean;
}

/** A loaded version with its monitors. */
export class Hosted {
  constructor(
    readonly loaded: LoadedModel,
    readonly stats: WindowedStats,
    readonly counters: VersionCounters | undefined,
  ) {}

  succeeded(latencyMs: number, scores: Float64Array): void {
    this.stats.recordSuccess(latencyMs, scores);
    const c = this.counters;
    if (c) {
      c.requests++;
      c.rows += scores.length;
      c.observe(latencyMs / 1000);
    }
  }

  failed(): void {
    this.stats.recordError();
    const c = this.counters;
    if (c) {
      c.requests++;
      c.errors++;
    }
  }

  rejected(): void {
    this.stats.recordRejected();
    if (this.counters) this.counters.rejected++;
  }
}

export interface Follow {
  alias: string;
  pollMs: number | undefined;
  timer?: NodeJS.Timeout;
  polling?: boolean;
  /** The version the alias named when last looked at: a poll acts only when the alias moved from it. */
  seen?: number;
}

export class ModelEntry {
  readonly versions = new Map<number, Hosted>();
  /** Kept after a version is unloaded, so a rolled-back candidate's numbers stay visible for the window. */
  readonly stats = new Map<number, WindowedStats>();
  router: Router<Hosted> | undefined;
  follows: Follow | undefined;
  lastLoad: LoadReport | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string) {}

  /** Runs changes to this model one after another. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}

export function describePolicy(policy: RoutingPolicy): string {
  switch (policy.strategy) {
    case 'single':
      return `v${policy.version}`;
    case 'canary':
      return `v${policy.primary} with v${policy.candidate} as a ${policy.percent}% canary`;
    case 'shadow':
      return `v${policy.primary} with v${policy.shadow} in shadow`;
    case 'ab':
      return policy.arms.map((a) => `${a.name}=v${a.version}`).join(', ');
  }
}

function armsByVersion(entry: ModelEntry): Map<number, string[]> {
  const arms = new Map<number, string[]>();
  for (const arm of entry.router?.targets() ?? []) {
    const v = arm.target.loaded.version;
    arms.set(v, [...(arms.get(v) ?? []), arm.name]);
  }
  return arms;
}

export function statusOf(entry: ModelEntry): ModelStatus {
  const arms = armsByVersion(entry);
  return {
    name: entry.name,
    ready: entry.router !== undefined,
    routing: entry.router?.policy ?? null,
    follows: entry.follows ? { alias: entry.follows.alias, pollMs: entry.follows.pollMs ?? null } : null,
    versions: [...entry.versions.values()]
      .map(({ loaded }) => ({
        version: loaded.version,
        arms: arms.get(loaded.version) ?? [],
        artifactUri: loaded.artifactUri,
        loadedAt: loaded.loadedAt.toISOString(),
        loadMs: Math.round(loaded.loadMs * 10) / 10,
        inputs: loaded.signature.inputs,
        outputs: loaded.signature.outputs,
        score: loaded.signature.score,
      }))
      .sort((a, b) => a.version - b.version),
    lastLoad: entry.lastLoad ?? null,
  };
}

export function statsOf(entry: ModelEntry, lastMs: number | undefined, defaultWindowMs: number): ModelStats {
  const arms = armsByVersion(entry);
  const versions = [...entry.stats.entries()]
    .map(([version, stats]) => ({ version, arms: arms.get(version) ?? [], loaded: entry.versions.has(version), ...stats.snapshot(lastMs) }))
    .sort((a, b) => Number(b.loaded) - Number(a.loaded) || a.version - b.version);
  return { model: entry.name, windowMs: versions[0]?.windowMs ?? defaultWindowMs, routing: entry.router?.policy ?? null, versions };
}
