/**
 * Prometheus metrics of the scorer, in a registry of its own (no global state, several scorers per
 * process in tests): requests, rows, errors, rejections and scoring latency per model and version,
 * model loads by outcome, and the prediction log's queue. The per-request numbers are plain fields
 * of a VersionCounters that the scoring path increments; they become Prometheus samples only when
 * /metrics is scraped, so a request pays a few additions, not prom-client's per-call label hashing.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; dense below 10 ms, where a scorer's latency lives. */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One version's monotonic counters, read at scrape time. */
export class VersionCounters {
  requests = 0;
  rows = 0;
  errors = 0;
  rejected = 0;
  durationSum = 0;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);

  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.durationSum += seconds;
  }
}

interface Sample {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** A metric whose samples are computed when the registry is scraped. */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly samples: () => Sample[],
  ) {}

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples() };
  }
}

export interface PredictionLogCounters {
  readonly queued: number;
  readonly written: number;
  readonly dropped: number;
  readonly failed: number;
}

export interface ScorerMetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event loop lag) with the `steward_scorer_` prefix. Default true. */
  processMetrics?: boolean;
}

export class ScorerMetrics {
  readonly registry = new Registry();
  private readonly loads: Counter<'model' | 'outcome'>;
  private readonly versions = new Map<string, VersionCounters>();
  private log: PredictionLogCounters | undefined;

  constructor(options: ScorerMetricsOptions = {}) {
    const registers = [this.registry];
    const all = () => [...this.versions.values()];
    const perVersion = (name: string, help: string, field: 'requests' | 'rows' | 'errors' | 'rejected') =>
      this.registry.registerMetric(
        new ScrapedMetric(name, help, 'counter', () => all().map((c) => ({ value: c[field], labels: { model: c.model, version: c.version } }))) as never,
      );
    perVersion('steward_scorer_requests_total', 'Scoring requests routed to a model version (successful and failed).', 'requests');
    perVersion('steward_scorer_rows_total', 'Rows scored successfully.', 'rows');
    perVersion('steward_scorer_errors_total', 'Requests that failed in the model (runtime error or non-finite score).', 'errors');
    perVersion('steward_scorer_rejected_total', 'Requests refused because their input did not match the signature.', 'rejected');
    const duration = 'steward_scorer_request_duration_seconds';
    this.registry.registerMetric(
      new ScrapedMetric(duration, 'Time from a validated request to its scores (validation, inference, reading the output).', 'histogram', () =>
        all().flatMap((c) => {
          const labels = { model: c.model, version: c.version };
          let cumulative = 0;
          const buckets = DURATION_BUCKETS.map((le, i) => {
            cumulative += c.buckets[i]!;
            return { value: cumulative, labels: { le: String(le), ...labels }, metricName: `${duration}_bucket` };
          });
          const count = cumulative + c.buckets[DURATION_BUCKETS.length]!;
          return [
            ...buckets,
            { value: count, labels: { le: '+Inf', ...labels }, metricName: `${duration}_bucket` },
            { value: c.durationSum, labels, metricName: `${duration}_sum` },
            { value: count, labels, metricName: `${duration}_count` },
          ];
        }),
      ) as never,
    );
    this.loads = new Counter({ name: 'steward_scorer_model_loads_total', help: 'Model version loads by outcome.', labelNames: ['model', 'outcome'], registers });
    const log = () => this.log;
    new Gauge({
      name: 'steward_scorer_prediction_log_queued',
      help: 'Predictions waiting to be written to the log.',
      registers,
      collect() {
        this.set(log()?.queued ?? 0);
      },
    });
    for (const [field, help] of [
      ['written', 'Predictions written to the log.'],
      ['dropped', 'Predictions dropped because the log queue was full.'],
      ['failed', 'Predictions lost because writing them failed.'],
    ] as const) {
      let reported = 0;
      new Counter({
        name: `steward_scorer_prediction_log_${field}_total`,
        help,
        registers,
        collect() {
          const now = log()?.[field] ?? 0;
          if (now > reported) this.inc(now - reported);
          reported = now;
        },
      });
    }
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'steward_scorer_' });
  }

  /** The counters a version's requests increment (one object per model and version, kept across reloads). */
  forVersion(model: string, version: number): VersionCounters {
    const key = `${model}\u0000${version}`;
    let counters = this.versions.get(key);
    if (!counters) {
      counters = new VersionCounters(model, String(version));
      this.versions.set(key, counters);
    }
    return counters;
  }

  modelLoaded(model: string, ok: boolean): void {
    this.loads.labels(model, ok ? 'loaded' : 'failed').inc();
  }

  /** Reports the prediction log's counters at every scrape. */
  watchPredictionLog(log: PredictionLogCounters): void {
    this.log = log;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
