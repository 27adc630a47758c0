/**
 * The scorer's core: the loaded versions of each model name, the routing between them, and the
 * scoring path. Changes (deploy, reload, a new routing policy) are serialized per model name and
 * follow one rule: load and warm everything the change needs first, then switch the model's Router
 * in a single assignment. A request picks its version synchronously when it starts and holds that
 * version's session until it returns, so a swap never fails a request or answers it with a
 * half-loaded model; a change whose load fails leaves the model serving exactly as before and
 * throws a ModelLoadError with the reason (also kept in `status().lastLoad`).
 *
 * @example
 * ```ts
 * const host = new ModelHost({ source: registrySource(db, artifacts), metrics, log });
 * await host.deploy('rain-tomorrow@champion', { pollMs: 10_000 }); // follows the alias
 * await host.setRouting('rain-tomorrow', { strategy: 'canary', primary: 3, candidate: 4, percent: 5 });
 * const result = await host.score('rain-tomorrow', { requestId, decode: decodeRecords(rows) }); // .version, .arm, .scores
 * host.stats('rain-tomorrow'); // per-version requests, error rate, p50/p99, score histogram
 * ```
 */
import { NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../platform/logger.js';
import { parseModelRef } from '../registry/lookup.js';
import { checkAliasName, checkModelName } from '../registry/names.js';
import { ModelLoadError } from './errors.js';
import { loadVersion, type LoadOptions, type RunResult } from './loaded-model.js';
import { logPrediction, shadowScore } from './after-score.js';
import { describePolicy, Hosted, ModelEntry, statsOf, statusOf, type ModelStats, type ModelStatus, type RoutingChange } from './host-state.js';
import type { ScorerMetrics } from './metrics.js';
import type { ModelSource, SourceVersion } from './model-source.js';
import type { PredictionLog } from './prediction-log.js';
import { parseRoutingPolicy, primaryOf, Router, versionsOf, withPrimary, type RoutingPolicy } from './routing.js';
import type { ServingSignature } from './signature.js';
import { WindowedStats, type StatsOptions } from './stats.js';
import type { Batch } from './validation.js';

export type { LoadReport, ModelStats, ModelStatus, RoutingChange, VersionStatus } from './host-state.js';

export interface ModelHostOptions {
  source: ModelSource;
  metrics?: ScorerMetrics;
  log?: PredictionLog;
  stats?: StatsOptions;
  load?: LoadOptions;
  /** Background events: alias polls, failed shadow scores. */
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface ScoreRequest {
  requestId: string;
  /** What the split hashes (default: the request id); send a user id for sticky arms. */
  routingKey?: string;
  /** Score with exactly this loaded version, bypassing the routing (arm `direct`). */
  version?: number;
  /** Validates the request against the chosen version's signature. Throws a ValidationError to refuse it. */
  decode: (signature: ServingSignature) => Batch;
  /** The rows as the caller sent them, for the prediction log (default: the decoded batch's rows). */
  records?: readonly Record<string, unknown>[];
  /** Return every output tensor, not only the scores. */
  allOutputs?: boolean;
}

export interface ScoreResult extends RunResult {
  requestId: string;
  model: string;
  version: number;
  arm: string;
  rows: number;
  signature: ServingSignature;
  latencyMs: number;
}

export class ModelHost {
  private readonly models = new Map<string, ModelEntry>();
  private closed = false;

  constructor(private readonly options: ModelHostOptions) {}

  /**
   * Serves `<model>@<version>` or `<model>@<alias>` as the model's only version. With an alias the
   * host follows it: `reload(model)` (and, given `pollMs`, a poll of the registry) moves to
   * wherever the alias points.
   */
  async deploy(ref: string, options: { pollMs?: number } = {}): Promise<RoutingChange> {
    const { model, selector } = this.parse(ref);
    const entry = this.entry(model, true)!;
    if (/^[0-9]+$/.test(selector)) this.unfollow(entry);
    else this.follow(entry, selector, options.pollMs);
    return this.forgetIfUnserved(
      entry,
      entry.exclusive(async () => {
        const hosted = await this.load(entry, selector);
        if (entry.follows?.alias === selector) entry.follows.seen = hosted.loaded.version;
        return this.switchTo(entry, { strategy: 'single', version: hosted.loaded.version }, [hosted.loaded.version]);
      }),
    );
  }

  /** A model whose first load failed is not kept around half-registered (its failure is in the error). */
  private async forgetIfUnserved<T>(entry: ModelEntry, change: Promise<T>): Promise<T> {
    try {
      return await change;
    } catch (error) {
      if (!entry.router && entry.versions.size === 0 && this.models.get(entry.name) === entry) {
        if (entry.follows?.timer) clearInterval(entry.follows.timer);
        this.models.delete(entry.name);
      }
      throw error;
    }
  }

  /**
   * Re-resolves the alias the model follows (or `ref`: an alias becomes what it follows, a version
   * number pins it and stops following) and, when that names another version than the primary,
   * loads it and makes it the primary: a single version stays single, a canary or shadow keeps its
   * candidate (and ends when the candidate itself is promoted). Unchanged when it names the primary.
   */
  async reload(model: string, ref?: string): Promise<RoutingChange> {
    let entry = this.entry(model, ref !== undefined);
    if (!entry) throw this.unknown(model);
    let selector: string;
    if (ref !== undefined) {
      const parsed = this.parse(ref.includes('@') ? ref : `${model}@${ref}`);
      if (parsed.model !== model) throw new ValidationError(`Reload of "${model}" cannot load "${ref}", a version of another model.`);
      selector = parsed.selector;
      entry = this.entry(model, true)!;
      if (/^[0-9]+$/.test(selector)) this.unfollow(entry);
      else if (entry.follows?.alias !== selector) this.follow(entry, selector, entry.follows?.pollMs);
    } else if (entry.follows) {
      selector = entry.follows.alias;
    } else {
      throw new ValidationError(`"${model}" follows no alias, so there is nothing to reload from; give a reference such as ${model}@champion.`);
    }
    return this.refresh(entry, selector, false);
  }

  /**
   * Makes what `selector` names the primary. A poll (`onlyIfMoved`) acts only when the followed
   * alias moved since it last looked, so a routing set explicitly (a canary, a pinned version) is
   * not undone by the next poll, and a version that failed to load is not retried until the alias
   * moves again or a reload is asked for.
   */
  private refresh(entry: ModelEntry, selector: string, onlyIfMoved: boolean): Promise<RoutingChange> {
    const model = entry.name;
    return this.forgetIfUnserved(
      entry,
      entry.exclusive(async () => {
        const policy = entry.router?.policy;
        const found = await this.options.source.resolve(model, selector);
        const follows = entry.follows?.alias === selector ? entry.follows : undefined;
        const moved = follows?.seen !== found.version;
        if (follows) follows.seen = found.version;
        if (policy && ((onlyIfMoved && !moved) || (primaryOf(policy) === found.version && entry.versions.has(found.version)))) {
          return { model, previous: policy, routing: policy, loaded: [], changed: false };
        }
        if (policy?.strategy === 'ab') throw new ValidationError(`"${model}" is split A/B, which has no primary for ${model}@${selector} to replace; set a new routing policy instead.`);
        const hosted = await this.load(entry, found, `${model}@${selector}`);
        const next = policy ? withPrimary(policy, found.version) : ({ strategy: 'single', version: found.version } as const);
        return this.switchTo(entry, next, [hosted.loaded.version]);
      }),
    );
  }

  /** Loads every version the policy names that is not loaded yet, then switches to it. */
  async setRouting(model: string, policy: unknown): Promise<RoutingChange> {
    checkModelName(model);
    const parsed = parseRoutingPolicy(policy);
    const entry = this.entry(model, true)!;
    return this.forgetIfUnserved(entry, entry.exclusive(async () => {
      const loaded: Hosted[] = [];
      try {
        for (const version of versionsOf(parsed)) if (!entry.versions.has(version)) loaded.push(await this.load(entry, version));
      } catch (error) {
        // Nothing changed: versions loaded for this attempt go away again.
        for (const h of loaded) {
          entry.versions.delete(h.loaded.version);
          h.loaded.retire();
        }
        throw error;
      }
      return this.switchTo(entry, parsed, loaded.map((h) => h.loaded.version));
    }));
  }

  routing(model: string): RoutingPolicy | null {
    return this.models.get(model)?.router?.policy ?? null;
  }

  /** Polls the model's alias every `pollMs` and reloads when it moved. */
  followAlias(model: string, alias: string, pollMs: number): void {
    const entry = this.entry(model, false);
    if (!entry) throw this.unknown(model);
    this.follow(entry, alias, pollMs);
  }

  /**
   * Scores one request. The version is picked, the request validated against its signature and the
   * session run without yielding in between, so the version cannot be released under the request.
   */
  async score(model: string, request: ScoreRequest): Promise<ScoreResult> {
    const entry = this.models.get(model);
    const router = entry?.router;
    if (!entry || !router) throw this.unknown(model);
    let hosted: Hosted;
    let arm: string;
    const key = request.routingKey ?? request.requestId;
    if (request.version !== undefined) {
      const exact = entry.versions.get(request.version);
      if (!exact) throw new NotFoundError(`${model} v${request.version} is not loaded here; loaded: ${[...entry.versions.keys()].map((v) => `v${v}`).join(', ')}.`, { model, version: request.version });
      hosted = exact;
      arm = 'direct';
    } else {
      const picked = router.pick(key);
      hosted = picked.target;
      arm = picked.name;
    }
    const loaded = hosted.loaded;
    const started = performance.now();
    let batch: Batch;
    try {
      batch = request.decode(loaded.signature);
    } catch (error) {
      hosted.rejected();
      throw error;
    }
    let result: RunResult;
    try {
      result = await loaded.run(batch, request.allOutputs);
    } catch (error) {
      hosted.failed();
      logPrediction(this.options.log, hosted, request, arm, false, batch, undefined, (error as Error).message, performance.now() - started);
      throw error;
    }
    const latencyMs = performance.now() - started;
    hosted.succeeded(latencyMs, result.scores);
    logPrediction(this.options.log, hosted, request, arm, false, batch, result.scores, undefined, latencyMs);
    const shadow = router.shadow;
    if (shadow && arm !== 'direct' && router.shadows(key)) setImmediate(() => void shadowScore(shadow.target, request, loaded.signature, batch, this.options));
    // Listed field by field: spreading `result` here costs more than the rest of this method.
    return { scores: result.scores, outputs: result.outputs, requestId: request.requestId, model, version: loaded.version, arm, rows: batch.rows, signature: loaded.signature, latencyMs };
  }

  /** Whether every model has a routing policy over loaded versions. */
  ready(): boolean {
    for (const entry of this.models.values()) if (!entry.router) return false;
    return this.models.size > 0;
  }

  isReady(model: string): boolean {
    return this.models.get(model)?.router !== undefined;
  }

  has(model: string): boolean {
    return this.models.has(model);
  }

  modelNames(): string[] {
    return [...this.models.keys()];
  }

  /** The loaded version (the primary, or `version`) whose signature describes the model. */
  signature(model: string, version?: number): { version: number; signature: ServingSignature; versions: number[] } {
    const entry = this.models.get(model);
    if (!entry?.router) throw this.unknown(model);
    const v = version ?? primaryOf(entry.router.policy) ?? entry.router.targets()[0]!.target.loaded.version;
    const hosted = entry.versions.get(v);
    if (!hosted) throw new NotFoundError(`${model} v${v} is not loaded here; loaded: ${[...entry.versions.keys()].map((n) => `v${n}`).join(', ')}.`, { model, version: v });
    return { version: v, signature: hosted.loaded.signature, versions: [...entry.versions.keys()].sort((a, b) => a - b) };
  }

  status(model: string): ModelStatus {
    const entry = this.models.get(model);
    if (!entry) throw this.unknown(model);
    return statusOf(entry);
  }

  list(): ModelStatus[] {
    return [...this.models.keys()].sort().map((m) => this.status(m));
  }

  /** Per-version statistics over the window (or its most recent `lastMs`), the versions serving now first. */
  stats(model: string, lastMs?: number): ModelStats {
    const entry = this.models.get(model);
    if (!entry) throw this.unknown(model);
    return statsOf(entry, lastMs, this.options.stats?.windowMs ?? 60_000);
  }

  /** Stops polling and releases every session once its requests finish. Flushing the log is the log owner's job. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.models.values()) {
      await entry.exclusive(async () => {
        if (entry.follows?.timer) clearInterval(entry.follows.timer);
        entry.router = undefined;
        for (const hosted of entry.versions.values()) hosted.loaded.retire();
        entry.versions.clear();
      });
    }
  }

  private parse(ref: string): { model: string; selector: string } {
    const { model, selector } = parseModelRef(ref);
    checkModelName(model);
    if (selector === undefined) throw new ValidationError(`"${ref}" names no version: use <model>@<version> or <model>@<alias>.`, { ref });
    if (!/^[0-9]+$/.test(selector)) checkAliasName(selector);
    return { model, selector };
  }

  private entry(model: string, create: boolean): ModelEntry | undefined {
    let entry = this.models.get(model);
    if (!entry && create) {
      if (this.closed) throw new ValidationError('The model host is closed.');
      entry = new ModelEntry(model);
      this.models.set(model, entry);
    }
    return entry;
  }

  private unknown(model: string): NotFoundError {
    const served = [...this.models.keys()].filter((m) => this.models.get(m)!.router);
    return new NotFoundError(`Model "${model}" is not served here${served.length ? `; served: ${served.join(', ')}` : ''}.`, { model });
  }

  private unfollow(entry: ModelEntry): void {
    if (entry.follows?.timer) clearInterval(entry.follows.timer);
    entry.follows = undefined;
  }

  private follow(entry: ModelEntry, alias: string, pollMs: number | undefined): void {
    checkAliasName(alias);
    if (pollMs !== undefined && !(Number.isFinite(pollMs) && pollMs >= 100)) throw new ValidationError(`pollMs must be at least 100, got ${pollMs}.`);
    const seen = entry.follows?.alias === alias ? entry.follows.seen : undefined;
    if (entry.follows?.timer) clearInterval(entry.follows.timer);
    entry.follows = { alias, pollMs, seen };
    if (pollMs === undefined) return;
    const follows = entry.follows;
    follows.timer = setInterval(() => {
      if (follows.polling || this.closed) return;
      follows.polling = true;
      this.refresh(entry, alias, true)
        .then((change) => {
          if (change.changed) this.options.logger?.info(`${entry.name}@${alias} moved: now serving ${JSON.stringify(change.routing)}.`);
        })
        .catch((error: Error) => this.options.logger?.warn(`Following ${entry.name}@${alias} failed: ${error.message}`))
        .finally(() => (follows.polling = false));
    }, pollMs);
    follows.timer.unref();
  }

  /** Loads and warms a version (by selector, or already resolved) into the entry, not yet routed to; records the outcome. */
  private async load(entry: ModelEntry, selector: string | number | SourceVersion, ref = `${entry.name}@${typeof selector === 'object' ? selector.version : selector}`): Promise<Hosted> {
    const existing = typeof selector === 'number' ? entry.versions.get(selector) : undefined;
    if (existing) return existing;
    try {
      const found = typeof selector === 'object' ? selector : await this.options.source.resolve(entry.name, selector);
      const already = entry.versions.get(found.version);
      if (already) return already;
      const loaded = await loadVersion(this.options.source, found, this.options.load);
      let stats = entry.stats.get(loaded.version);
      if (!stats) {
        stats = new WindowedStats(this.options.stats);
        entry.stats.set(loaded.version, stats);
      }
      const hosted = new Hosted(loaded, stats, this.options.metrics?.forVersion(entry.name, loaded.version));
      entry.versions.set(loaded.version, hosted);
      entry.lastLoad = { at: new Date().toISOString(), ok: true, ref, version: loaded.version, loadMs: Math.round(loaded.loadMs * 10) / 10 };
      this.options.metrics?.modelLoaded(entry.name, true);
      return hosted;
    } catch (error) {
      const message = (error as Error).message;
      entry.lastLoad = { at: new Date().toISOString(), ok: false, ref, error: message };
      this.options.metrics?.modelLoaded(entry.name, false);
      if (error instanceof ModelLoadError && entry.router) {
        throw new ModelLoadError(`${message} ${entry.name} keeps serving ${describePolicy(entry.router.policy)}.`, error.details);
      }
      throw error;
    }
  }

  /** The atomic part: one assignment, then versions no longer routed to are retired (released when idle). */
  private switchTo(entry: ModelEntry, policy: RoutingPolicy, loaded: number[]): RoutingChange {
    const previous = entry.router?.policy ?? null;
    entry.router = new Router(policy, (v) => {
      const hosted = entry.versions.get(v);
      if (!hosted) throw new ModelLoadError(`${entry.name} v${v} is not loaded.`);
      return hosted;
    });
    const keep = new Set(versionsOf(policy));
    for (const [version, hosted] of entry.versions) {
      if (!keep.has(version)) {
        entry.versions.delete(version);
        hosted.loaded.retire();
      }
    }
    return { model: entry.name, previous, routing: policy, loaded, changed: JSON.stringify(previous) !== JSON.stringify(policy) };
  }
}

