/**
 * Steward's one database schema. camelCase keys, snake_case columns; migrations in
 * drizzle/ are generated from this file by `npm run db:generate`.
 */
import { bigint, boolean, doublePrecision, foreignKey, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, unique } from 'drizzle-orm/pg-core';

/**
 * One row per write that a retried activity must not repeat. The row commits in the same
 * transaction as the write it guards, so a crash either loses both or keeps both.
 */
export const idempotencyKeys = pgTable('idempotency_keys', {
  key: text('key').primaryKey(),
  scope: text('scope').notNull(),
  result: jsonb('result').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Recorded step results, reused when a step runs again with the same code version and inputs.
 * The key hashes the step implementation, its version and its resolved input (which carries the
 * content hashes of upstream data).
 */
export const stepCache = pgTable('step_cache', {
  key: text('key').primaryKey(),
  uses: text('uses').notNull(),
  version: text('version').notNull(),
  output: jsonb('output').notNull(),
  runId: text('run_id').notNull(),
  step: text('step').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A batch of raw data loaded from a file, identified by the content it holds. */
export const ingestions = pgTable('ingestions', {
  id: text('id').primaryKey(),
  dataset: text('dataset').notNull(),
  source: text('source').notNull(),
  contentHash: text('content_hash').notNull(),
  rows: integer('rows').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Registered model versions. A version points to its artifact and the training set it learned
 * from; registering the same artifact again returns the existing version (retried activities).
 */
export const modelVersions = pgTable(
  'model_versions',
  {
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    artifactUri: text('artifact_uri').notNull(),
    artifactSha256: text('artifact_sha256').notNull(),
    trainingSetUri: text('training_set_uri').notNull(),
    metrics: jsonb('metrics').notNull(),
    signature: jsonb('signature').notNull(),
    runId: text('run_id').notNull(),
    /** Null for versions registered before the algorithm was recorded. */
    algorithm: text('algorithm'),
    /** What this version is and why it was registered, in a sentence or two; null when none was given. */
    description: text('description'),
    /**
     * What the model card shows beyond the columns (src/registry/version-metadata.ts): purpose,
     * owner, training window, features with sensitivity tags, the validation set, fairness report,
     * behavioural checks and curves. `{}` for versions registered without them.
     */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The lifecycle state (src/registry/lifecycle.ts); every change is also appended to model_history. */
    status: text('status').notNull().default('registered'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelName, t.version] }), unique('model_versions_artifact_uq').on(t.modelName, t.artifactSha256)],
);

/** Movable named pointers (`champion`, `challenger`) to one version of a model. */
export const modelAliases = pgTable(
  'model_aliases',
  {
    modelName: text('model_name').notNull(),
    alias: text('alias').notNull(),
    version: integer('version').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.modelName, t.alias] }),
    foreignKey({ name: 'model_aliases_version_fk', columns: [t.modelName, t.version], foreignColumns: [modelVersions.modelName, modelVersions.version] }),
  ],
);

/**
 * Every registry change, appended in the transaction that makes it and never updated (a trigger
 * refuses UPDATE and DELETE). For alias events `from`/`to` hold version numbers; for transitions,
 * statuses.
 */
export const modelHistory = pgTable(
  'model_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    kind: text('kind', { enum: ['registered', 'transition', 'alias_set', 'alias_unset'] }).notNull(),
    alias: text('alias'),
    from: text('from'),
    to: text('to'),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    workflowId: text('workflow_id'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_history_model_idx').on(t.modelName, t.id)],
);

/** A named group of runs that are meant to be compared (usually one per model name). */
export const experiments = pgTable('experiments', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One training attempt with everything needed to reproduce and explain it: parameters, metrics,
 * the code (git commit), the data (training set hash and the ingestion it came from), the runtime
 * and the Temporal workflow that ran it. `key` makes a retried activity reuse its run.
 */
export const experimentRuns = pgTable(
  'experiment_runs',
  {
    id: text('id').primaryKey(),
    key: text('key').unique('experiment_runs_key_uq'),
    experiment: text('experiment')
      .notNull()
      .references(() => experiments.name),
    status: text('status', { enum: ['running', 'finished', 'failed'] }).notNull().default('running'),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    /** The latest single value of each metric; step series live in experiment_run_metric_steps. */
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull().default({}),
    tags: jsonb('tags').$type<Record<string, string>>().notNull().default({}),
    artifacts: jsonb('artifacts').$type<string[]>().notNull().default([]),
    /** Null when the process did not run from a git checkout. */
    gitCommit: text('git_commit'),
    gitDirty: boolean('git_dirty'),
    trainingSetUri: text('training_set_uri'),
    trainingSetSha256: text('training_set_sha256'),
    ingestionId: text('ingestion_id'),
    environment: jsonb('environment').$type<RunEnvironment>().notNull(),
    workflowId: text('workflow_id'),
    workflowRunId: text('workflow_run_id'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    index('experiment_runs_experiment_idx').on(t.experiment, t.startedAt),
    index('experiment_runs_workflow_idx').on(t.workflowId),
    index('experiment_runs_ingestion_idx').on(t.ingestionId),
  ],
);

/** A metric logged at successive steps (loss per iteration, AUC per tree count). */
export const experimentRunMetricSteps = pgTable(
  'experiment_run_metric_steps',
  {
    runId: text('run_id')
      .notNull()
      .references(() => experimentRuns.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    step: integer('step').notNull(),
    value: doublePrecision('value').notNull(),
    loggedAt: timestamp('logged_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key, t.step] })],
);

/** What a run executed on; package versions are null when a package is not installed. */
export interface RunEnvironment {
  node: string;
  platform: string;
  packages: Record<string, string | null>;
}

export type ModelVersion = typeof modelVersions.$inferSelect;
export type ModelAlias = typeof modelAliases.$inferSelect;
export type ModelHistoryEvent = typeof modelHistory.$inferSelect;
export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
export type StepCacheRow = typeof stepCache.$inferSelect;
export type Ingestion = typeof ingestions.$inferSelect;

export type Experiment = typeof experiments.$inferSelect;
export type ExperimentRun = typeof experimentRuns.$inferSelect;
export type MetricStepRow = typeof experimentRunMetricSteps.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Governance sign-offs: principals, tokens, approvals, single-use decision codes, the audit chain
// ---------------------------------------------------------------------------------------------

/** A person or service that acts on Steward; roles decide what it may approve. */
export const principals = pgTable('principals', {
  name: text('name').primaryKey(),
  displayName: text('display_name'),
  roles: jsonb('roles').$type<string[]>().notNull(),
  disabled: boolean('disabled').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API tokens, stored as sha256 of the secret: the secret itself is shown once and never stored. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    principal: text('principal')
      .notNull()
      .references(() => principals.name, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    label: text('label'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [unique('api_tokens_hash_unique').on(t.tokenHash)],
);

/**
 * One approval gate as it opened in a pipeline run: the policy it enforces, the roles it requires
 * (after conditional requirements were evaluated) and how it ended. The live state (who has
 * decided so far) is the workflow's; this row is what lists and pages read.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    gate: text('gate').notNull(),
    pipeline: text('pipeline').notNull(),
    subject: jsonb('subject').notNull(),
    policy: jsonb('policy').notNull(),
    required: jsonb('required').$type<Record<string, number>>().notNull(),
    authors: jsonb('authors').$type<string[]>().notNull(),
    modelName: text('model_name'),
    modelVersion: integer('model_version'),
    status: text('status', { enum: ['waiting', 'approved', 'rejected', 'expired', 'cancelled'] }).notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    outcome: jsonb('outcome'),
  },
  (t) => [unique('approvals_gate_unique').on(t.workflowId, t.gate), index('approvals_status_idx').on(t.status, t.openedAt)],
);

/**
 * Single-use proof that a decision comes from the reviewer it names: issued to an authenticated
 * principal for one approval and role, stored hashed, consumed by the first decision that shows it.
 */
export const decisionCodes = pgTable('decision_codes', {
  codeHash: text('code_hash').primaryKey(),
  approvalId: text('approval_id')
    .notNull()
    .references(() => approvals.id, { onDelete: 'cascade' }),
  principal: text('principal')
    .notNull()
    .references(() => principals.name, { onDelete: 'cascade' }),
  role: text('role').notNull(),
  issuedAt: timestamp('issued_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  /**
   * The one delivery that consumed the code (workflow, run and activity id): a retried verification
   * of that delivery succeeds again, any other use of the code is a replay.
   */
  usedBy: text('used_by'),
});

/**
 * Browser sessions of the reviewer page, by sha256 of the cookie value. A session remembers the
 * token it was opened with: revoking that token ends it.
 */
export const webSessions = pgTable('web_sessions', {
  idHash: text('id_hash').primaryKey(),
  principal: text('principal')
    .notNull()
    .references(() => principals.name, { onDelete: 'cascade' }),
  tokenId: text('token_id').references(() => apiTokens.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/**
 * The audit trail: append-only (a trigger refuses UPDATE and DELETE) and hash-chained: each entry's
 * hash covers its content and the previous entry's hash, so editing or removing any row breaks
 * every hash after it (`steward audit verify`).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    details: jsonb('details').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** 1: the hash covers seq, at, actor, action, subject, details; 2: also the idempotency key. */
    hashVersion: smallint('hash_version').notNull().default(1),
  },
  (t) => [index('audit_log_subject_idx').on(t.subject, t.seq), unique('audit_log_idempotency_unique').on(t.idempotencyKey)],
);

/**
 * The audit chain's head, moved forward in the same transaction as every append: an entry removed
 * from the end of the chain leaves the head pointing past it, so truncation is detected. One row.
 */
export const auditHead = pgTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
  at: timestamp('at', { withTimezone: true }).notNull(),
});

export type Principal = typeof principals.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type ApprovalRow = typeof approvals.$inferSelect;
export type DecisionCode = typeof decisionCodes.$inferSelect;
export type AuditEntry = typeof auditLog.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Serving: the prediction log and the ground truth attached to it later
// ---------------------------------------------------------------------------------------------

/**
 * Every prediction the scorer made (one row per request, which may hold many rows of features),
 * written asynchronously in batches. A shadow model's answer to the same request is a second row
 * with `shadow` set. Inputs are the request's rows, with the value of each pii feature replaced by
 * `sha256:<hex>`; outputs are the scores, one per row.
 */
export const predictionLog = pgTable(
  'prediction_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    requestId: text('request_id').notNull(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    /** The routing arm that chose the version: `primary`, `candidate`, `shadow`, an A/B arm's name or `direct`. */
    arm: text('arm').notNull(),
    shadow: boolean('shadow').notNull().default(false),
    rows: integer('rows').notNull(),
    inputs: jsonb('inputs').$type<Record<string, unknown>[]>().notNull(),
    /** Null when scoring failed (then `error` says why). */
    outputs: jsonb('outputs').$type<number[]>(),
    error: text('error'),
    latencyMs: doublePrecision('latency_ms').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('prediction_log_request_idx').on(t.requestId), index('prediction_log_model_idx').on(t.modelName, t.version, t.at)],
);

/** The observed outcome of a prediction, attached by request id (and row, for multi-row requests) whenever it becomes known. */
export const predictionGroundTruth = pgTable(
  'prediction_ground_truth',
  {
    requestId: text('request_id').notNull(),
    rowIndex: integer('row_index').notNull().default(0),
    /** The label (0/1) or the observed target. */
    value: doublePrecision('value').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.rowIndex] })],
);

export type PredictionLogRow = typeof predictionLog.$inferSelect;
export type NewPredictionLogRow = typeof predictionLog.$inferInsert;
export type GroundTruthRow = typeof predictionGroundTruth.$inferSelect;

/**
 * Deployments of a model version to the scorer (workflows/deployment.ts), one row per deployment,
 * updated as it moves: the plan (strategy, traffic steps, thresholds), the routing it set last
 * (a restarted scorer re-applies a running deployment's routing), each analysis with its numbers,
 * and the outcome with the rollback reason. Every change is also in the audit trail.
 */
export const deployments = pgTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    candidateVersion: integer('candidate_version').notNull(),
    /** The version serving before; null for a model's first deployment. */
    stableVersion: integer('stable_version'),
    strategy: text('strategy', { enum: ['canary', 'blue-green', 'shadow', 'ab'] }).notNull(),
    /** The alias success moves to the candidate (`production`). */
    alias: text('alias').notNull(),
    /** The plan: traffic steps, thresholds, analysis windows, whether success promotes. */
    plan: jsonb('plan').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['running', 'promoted', 'completed', 'rolled_back', 'failed'] }).notNull(),
    /** Index of the step in progress (0-based); equals the number of steps once every step passed. */
    currentStep: integer('current_step').notNull().default(0),
    /** The routing policy this deployment set last. */
    routing: jsonb('routing').$type<Record<string, unknown>>(),
    analyses: jsonb('analyses').$type<Record<string, unknown>[]>().notNull().default([]),
    outcome: text('outcome'),
    rollbackReason: text('rollback_reason'),
    startedBy: text('started_by').notNull(),
    workflowId: text('workflow_id').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('deployments_model_idx').on(t.modelName, t.startedAt)],
);

export type DeploymentRow = typeof deployments.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Feature store: the registry of definitions, offline ingestions, the online store, materialization
// runs and the statistics they compute. Each feature view's rows live in its own typed table in the
// `features` schema, created by `apply` (src/features/offline-store.ts), not declared here.
// ---------------------------------------------------------------------------------------------

/**
 * Every applied version of every definition (entity, feature view, on-demand view, feature
 * service): the latest version of a name is the registered one. `hash` is the sha256 of `spec`.
 */
export const featureDefinitions = pgTable(
  'feature_definitions',
  {
    kind: text('kind', { enum: ['entity', 'featureView', 'onDemandFeatureView', 'featureService'] }).notNull(),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    hash: text('hash').notNull(),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.name, t.version] })],
);

/**
 * One load of rows into a feature view's offline table, keyed by the view and the content loaded,
 * so a retry resumes (or finds it done) instead of adding the rows twice. Its rows are visible to
 * reads only once `status` is `complete`; `commitSeq` orders completions per view, and incremental
 * materialization picks up what completed after its watermark.
 */
export const featureIngestions = pgTable(
  'feature_ingestions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull().unique('feature_ingestions_key_uq'),
    view: text('view').notNull(),
    source: text('source').notNull(),
    contentHash: text('content_hash').notNull(),
    status: text('status', { enum: ['running', 'complete', 'failed'] }).notNull().default('running'),
    rows: bigint('rows', { mode: 'number' }).notNull().default(0),
    batches: integer('batches').notNull().default(0),
    commitSeq: bigint('commit_seq', { mode: 'number' }),
    /** What was done to the input on the way in (non-finite numbers stored as null, per column). */
    report: jsonb('report').$type<Record<string, unknown>>().notNull().default({}),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [index('feature_ingestions_view_idx').on(t.view, t.commitSeq)],
);

/** The batches of an ingestion already committed (each in its own transaction with its rows). */
export const featureIngestionBatches = pgTable(
  'feature_ingestion_batches',
  {
    ingestionId: integer('ingestion_id')
      .notNull()
      .references(() => featureIngestions.id, { onDelete: 'cascade' }),
    batch: integer('batch').notNull(),
    rowStart: bigint('row_start', { mode: 'number' }).notNull(),
    rows: integer('rows').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ingestionId, t.batch] })],
);

/** One materialization of a feature view from the offline to the online store. */
export const featureMaterializations = pgTable(
  'feature_materializations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    view: text('view').notNull(),
    mode: text('mode', { enum: ['full', 'incremental'] }).notNull(),
    status: text('status', { enum: ['running', 'complete', 'failed'] }).notNull().default('running'),
    /** Ingestions with fromSeq < commit_seq <= toSeq were read; toSeq is the next incremental run's watermark. */
    fromSeq: bigint('from_seq', { mode: 'number' }).notNull(),
    toSeq: bigint('to_seq', { mode: 'number' }).notNull(),
    rowsRead: bigint('rows_read', { mode: 'number' }).notNull().default(0),
    entitiesWritten: integer('entities_written').notNull().default(0),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('feature_materializations_view_idx').on(t.view, t.id)],
);

/** The online store: the latest row of each entity of each feature view (values by feature name). */
export const featureOnline = pgTable(
  'feature_online',
  {
    view: text('view').notNull(),
    /** The join key values as a JSON array, in the view's join key order. */
    entityKey: text('entity_key').notNull(),
    eventAt: timestamp('event_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }),
    values: jsonb('values').$type<Record<string, unknown>>().notNull(),
    materializationId: integer('materialization_id').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.view, t.entityKey] })],
);

/**
 * Statistics of each feature of a view over everything materialized up to a run: the summary the
 * model card and drift monitoring read, and the mergeable sketch an incremental run extends.
 */
export const featureStatistics = pgTable(
  'feature_statistics',
  {
    materializationId: integer('materialization_id')
      .notNull()
      .references(() => featureMaterializations.id, { onDelete: 'cascade' }),
    view: text('view').notNull(),
    feature: text('feature').notNull(),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull(),
    sketch: jsonb('sketch').$type<Record<string, unknown>>().notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.materializationId, t.feature] }), index('feature_statistics_view_idx').on(t.view, t.materializationId)],
);

export type FeatureDefinitionRow = typeof featureDefinitions.$inferSelect;
export type FeatureIngestion = typeof featureIngestions.$inferSelect;
export type FeatureMaterialization = typeof featureMaterializations.$inferSelect;
export type FeatureOnlineRow = typeof featureOnline.$inferSelect;
export type FeatureStatisticsRow = typeof featureStatistics.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Data governance: OpenLineage run events emitted by every pipeline step, and data-quality results.
// ---------------------------------------------------------------------------------------------

/**
 * OpenLineage RunEvents (START, COMPLETE, FAIL) of pipeline steps, stored whole as JSON. `eventKey`
 * makes emission idempotent under activity retries: one START and one COMPLETE per step run, one
 * FAIL per attempt. Inputs and outputs are denormalized as `namespace/name` lists for graph queries.
 */
export const lineageEvents = pgTable(
  'lineage_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventKey: text('event_key').notNull(),
    runId: text('run_id').notNull(),
    eventType: text('event_type').notNull(),
    eventTime: timestamp('event_time', { withTimezone: true }).notNull(),
    jobNamespace: text('job_namespace').notNull(),
    jobName: text('job_name').notNull(),
    inputs: jsonb('inputs').$type<string[]>().notNull().default([]),
    outputs: jsonb('outputs').$type<string[]>().notNull().default([]),
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [unique('lineage_events_key_unique').on(t.eventKey), index('lineage_events_run_idx').on(t.runId), index('lineage_events_job_idx').on(t.jobName, t.eventTime)],
);

/** Results of data-quality expectation suites run as pipeline steps, one row per suite run. */
export const dataQualityResults = pgTable(
  'data_quality_results',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    dataset: text('dataset').notNull(),
    suite: text('suite').notNull(),
    passed: boolean('passed').notNull(),
    rows: bigint('rows', { mode: 'number' }).notNull(),
    results: jsonb('results').$type<Record<string, unknown>[]>().notNull(),
    runId: text('run_id'),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('data_quality_results_key_unique').on(t.key), index('data_quality_results_dataset_idx').on(t.dataset, t.checkedAt)],
);

export type LineageEventRow = typeof lineageEvents.$inferSelect;
export type DataQualityResultRow = typeof dataQualityResults.$inferSelect;

/**
 * Drift reports, one per monitoring run (src/monitoring/report.ts): the window's verdicts as
 * columns for queries, the full report (per-column test, statistic, threshold, verdict, charts) as
 * jsonb, and the retraining policy's decision with its numbers once the policy has run. `id` is the
 * monitoring run's key, so a retried step writes it once.
 */
export const driftReports = pgTable(
  'drift_reports',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    windowFrom: timestamp('window_from', { withTimezone: true }).notNull(),
    windowTo: timestamp('window_to', { withTimezone: true }).notNull(),
    rows: integer('rows').notNull(),
    /** False when the window had too few rows to decide anything. */
    enough: boolean('enough').notNull(),
    datasetDrift: boolean('dataset_drift'),
    predictionDrift: boolean('prediction_drift'),
    decayed: boolean('decayed'),
    report: jsonb('report').$type<Record<string, unknown>>().notNull(),
    /** The policy's decision: `retrain` or `hold`; null until the policy has run. */
    decision: text('decision', { enum: ['retrain', 'hold'] }),
    decisionDetails: jsonb('decision_details').$type<Record<string, unknown>>(),
    /** The pipeline run that produced it, when one did. */
    runId: text('run_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('drift_reports_model_idx').on(t.modelName, t.createdAt)],
);

export type DriftReportRow = typeof driftReports.$inferSelect;

/**
 * Purposes a model may use pii features for, each granted through an approval gate (the
 * approve-purpose pipeline). getHistoricalFeatures refuses a pii feature for a model without one.
 */
export const approvedPurposes = pgTable(
  'approved_purposes',
  {
    approvalId: text('approval_id').primaryKey(),
    modelName: text('model_name').notNull(),
    purpose: text('purpose').notNull(),
    /** Feature output names (`view__feature`) the purpose covers. */
    features: jsonb('features').$type<string[]>().notNull(),
    approvedBy: jsonb('approved_by').$type<string[]>().notNull(),
    approvedAt: timestamp('approved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('approved_purposes_model_idx').on(t.modelName)],
);

export type ApprovedPurposeRow = typeof approvedPurposes.$inferSelect;

/**
 * Access grants: a role may use a permission (read, write, train-on, deploy, approve, or `*`) on
 * resources matching a pattern (`feature_view:customer_profile`, `model:*`, `*`). Sensitive
 * resources (pii, confidential) need a grant; src/governance/access.ts decides and audits.
 */
export const accessGrants = pgTable(
  'access_grants',
  {
    role: text('role').notNull(),
    permission: text('permission').notNull(),
    resource: text('resource').notNull(),
    grantedBy: text('granted_by').notNull(),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.role, t.permission, t.resource] })],
);

export type AccessGrantRow = typeof accessGrants.$inferSelect;

/**
 * The data catalog: every dataset Steward knows (raw sources, feature views, training sets,
 * prediction logs) with its columns, owner, sensitivity, tags and retention. Registered from code
 * (src/governance/catalog.ts); owners may edit the descriptive fields, which `edited` protects from
 * the next registration.
 */
export const catalogDatasets = pgTable('catalog_datasets', {
  name: text('name').primaryKey(),
  kind: text('kind', { enum: ['raw', 'feature_view', 'training_set', 'prediction_log'] }).notNull(),
  description: text('description').notNull().default(''),
  owner: text('owner').notNull(),
  sensitivity: text('sensitivity', { enum: ['public', 'internal', 'confidential', 'pii'] }).notNull(),
  tags: jsonb('tags').$type<string[]>().notNull().default([]),
  retention: text('retention'),
  columns: jsonb('columns').$type<Array<{ name: string; type: string; description?: string; sensitivity?: string }>>().notNull(),
  /** Fields an owner edited; registration from code leaves them alone. */
  edited: jsonb('edited').$type<string[]>().notNull().default([]),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type CatalogDatasetRow = typeof catalogDatasets.$inferSelect;
