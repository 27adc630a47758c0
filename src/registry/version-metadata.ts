/**
 * What a model version carries for its model card beyond the registry's columns: purpose, owner,
 * intended use and limitations, the training window, the features with their sensitivity, the
 * validation set the metrics were measured on, the fairness reports (a classifier's or a
 * regressor's, per declared column), behavioural check results and evaluation curves. Stored in
 * `model_versions.metadata`; checked when a version is registered, and read back section by
 * section so one malformed section (written by an older or foreign writer) does not hide the rest.
 *
 * @example
 * await registerModelVersion(db, { ...version, metadata: { purpose: 'Tell whether it rains tomorrow', owner: 'weather-team' } });
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

/** The levels of the governance catalog (issue 9): a feature tagged `pii` needs an approved purpose. */
export const SENSITIVITY_LEVELS = ['public', 'internal', 'confidential', 'pii'] as const;

/** Postgres stores jsonb up to 255 MB; a card's metadata is a summary, not a data dump. */
export const MAX_METADATA_BYTES = 256 * 1024;

const text = z.string().min(1).max(10_000);
const count = z.number().int().nonnegative();
/** JSON has no NaN: rates with an empty denominator are null (see src/ml/fairness.ts). */
const rate = z.number().nullable();
const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

const featureSchema = z.object({
  name: text,
  type: z.string().optional(),
  description: z.string().optional(),
  sensitivity: z.enum(SENSITIVITY_LEVELS).optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
});

const trainingSchema = z.object({
  /** First and last departure (or event time) of the rows the model learned from. */
  from: instant,
  to: instant,
  rows: count,
  label: z.string().optional(),
  /** Where the data came from, e.g. `vega:seattle-weather.csv` or `feature service rain_forecast v1`. */
  source: z.string().optional(),
});

const validationSchema = z.object({
  description: text,
  rows: count,
  positives: count.optional(),
  from: instant.optional(),
  to: instant.optional(),
});

const fairnessSchema = z.object({
  /** The column rows are grouped by, and how it was derived. */
  groupColumn: text,
  groupDescription: text,
  referenceGroup: text,
  threshold: z.number().min(0).max(1),
  groups: z
    .array(
      z.object({
        group: z.string(),
        size: count,
        positives: count,
        predictedPositives: count,
        selectionRate: z.number(),
        tpr: rate,
        fpr: rate,
        precision: rate,
        disparateImpactRatio: rate,
        equalOpportunityDifference: rate,
      }),
    )
    .min(1)
    .max(200),
  minDisparateImpactRatio: rate,
  maxEqualOpportunityGap: rate,
});

/** A regressor's fairness over one column: its RMSE and MAE per group against the overall error (src/ml/tabular/evaluate.ts). */
const regressionFairnessSchema = z.object({
  task: z.literal('regression'),
  column: text,
  groupColumn: text,
  groupDescription: text,
  overall: z.object({ rows: count, rmse: z.number(), mae: z.number() }),
  groups: z
    .array(z.object({ group: z.string(), size: count, rmse: z.number(), mae: z.number(), errorRatio: z.number() }))
    .min(1)
    .max(200),
  worstGroup: z.string(),
  maxErrorRatio: z.number(),
  maxAllowedErrorRatio: z.number(),
  passed: z.boolean(),
});

/** A classifier's fairness over one column, with the declared bound and the verdict. */
const classificationFairnessReportSchema = fairnessSchema.extend({
  task: z.literal('binary-classification'),
  column: text,
  minAllowedDisparateImpactRatio: z.number(),
  passed: z.boolean(),
});

/** Every declared group column's report, in declaration order (a model may declare several). */
const fairnessReportsSchema = z.array(z.discriminatedUnion('task', [classificationFairnessReportSchema, regressionFairnessSchema])).max(50);

const featureValue = z.union([z.number(), z.string(), z.null()]);

const behaviourSchema = z.object({
  /** The rows the checks ran on, e.g. "2,000 rows spread evenly over the validation set". */
  description: text,
  results: z
    .array(
      z.object({
        name: text,
        kind: z.enum(['invariance', 'directional']),
        feature: text,
        passed: z.boolean(),
        rowsTested: count,
        violations: count,
        samples: z.array(z.object({ row: count, from: featureValue, to: featureValue, before: rate, after: rate })).max(100),
      }),
    )
    .max(100),
});

const points = z.array(z.number().min(0).max(1)).max(1_000);
const values = z.array(z.number()).max(1_000);
const curvesSchema = z.object({
  roc: z.object({ fpr: points, tpr: points }).optional(),
  calibration: z.object({ probPred: points, probTrue: points, counts: z.array(count).max(1_000) }).optional(),
  /** Regression: actual minus predicted over the validation rows. */
  residuals: z
    .object({ mean: z.number(), std: z.number(), quantiles: z.object({ q: points, values }), histogram: z.object({ edges: values, counts: z.array(count).max(1_000) }) })
    .optional(),
  /** Regression: per decile of the predictions, the mean prediction and the mean actual value. */
  predictedVsActual: z.object({ predicted: values, actual: values, counts: z.array(count).max(1_000) }).optional(),
});

/** Where the version's reference statistics for drift monitoring are (src/monitoring/reference.ts): an artifact, too big for the card. */
const referenceSchema = z.object({
  uri: z.string().startsWith('artifact://'),
  sha256: z.string().min(1),
  features: z.array(text).max(10_000),
  emptyFeatures: z.array(z.string()).max(10_000).optional(),
  trainRows: count,
  validationRows: count,
  task: z.enum(['binary-classification', 'regression']).optional(),
  /** A classifier's validation ROC AUC: what decay was measured against before tasks existed (absent for regression models). */
  validationRocAuc: z.number().min(0).max(1).optional(),
  /** The metric performance decay is measured on (src/ml/tabular/task.ts PRIMARY_METRIC), and its validation value; absent in older versions, which are judged on validationRocAuc. */
  primaryMetric: z.string().min(1).max(100).optional(),
  validationMetric: z.number().optional(),
});

const SECTIONS = {
  purpose: text,
  owner: z.string().min(1).max(200),
  /** Who may use the model's scores for what, and the uses it was not built for. */
  intendedUse: text,
  limitations: text,
  training: trainingSchema,
  features: z.array(featureSchema).max(10_000),
  validation: validationSchema,
  fairness: fairnessSchema,
  /** Every declared fairness column's report (classification or regression); `fairness` holds a classifier's worst one for the card and the sign-off. */
  fairnessReports: fairnessReportsSchema,
  behaviour: behaviourSchema,
  curves: curvesSchema,
  reference: referenceSchema,
} as const;

type Sections = typeof SECTIONS;
export type VersionMetadata = { -readonly [K in keyof Sections]?: z.infer<Sections[K]> };
export type FeatureMetadata = z.infer<typeof featureSchema>;
export type FairnessMetadata = z.infer<typeof fairnessSchema>;
export type FairnessReportMetadata = z.infer<typeof fairnessReportsSchema>[number];
export type BehaviourMetadata = z.infer<typeof behaviourSchema>;
export type CurvesMetadata = z.infer<typeof curvesSchema>;
export type ReferenceMetadata = z.infer<typeof referenceSchema>;

// Unknown sections are kept: a newer writer may add one that this reader cannot show yet.
const metadataSchema = z.looseObject(Object.fromEntries(Object.entries(SECTIONS).map(([k, s]) => [k, s.optional()])) as { [K in keyof Sections]: z.ZodOptional<Sections[K]> });

/** Refuses metadata that is malformed or oversized, naming the field, before anything is written. */
export function checkVersionMetadata(metadata: unknown): VersionMetadata {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError('Model version metadata must be a JSON object of sections (purpose, owner, training, features, ...).');
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > MAX_METADATA_BYTES) {
    throw new ValidationError(`Model version metadata is ${bytes} bytes; at most ${MAX_METADATA_BYTES} are kept. Store large reports as artifacts and reference their URIs.`, {
      bytes,
    });
  }
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ValidationError(`Model version metadata is invalid: ${issues.join('; ')}.`, { issues });
  }
  return parsed.data as VersionMetadata;
}

export interface ReadMetadata {
  metadata: VersionMetadata;
  /** Sections present but unreadable, with why; the card says so instead of dropping them silently. */
  unreadable: Array<{ section: string; problem: string }>;
}

export function readVersionMetadata(raw: unknown): ReadMetadata {
  const metadata: Record<string, unknown> = {};
  const unreadable: ReadMetadata['unreadable'] = [];
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  for (const [section, schema] of Object.entries(SECTIONS)) {
    if (source[section] === undefined) continue;
    const parsed = schema.safeParse(source[section]);
    if (parsed.success) metadata[section] = parsed.data;
    else unreadable.push({ section, problem: parsed.error.issues.map((i) => `${i.path.join('.') || section}: ${i.message}`).join('; ') });
  }
  return { metadata: metadata as VersionMetadata, unreadable };
}
