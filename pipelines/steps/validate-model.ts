/**
 * Validates a registered model version against release criteria (the release and challenge
 * pipelines): bounds on any metrics the version recorded (`{ metric: 'rmse', max: 4 }`,
 * `{ metric: 'rocAuc', min: 0.7 }`) and the behavioural checks recorded at evaluation. A version
 * that passes moves to `validated`; one that fails moves to `rejected` and the step fails with every
 * reason. A criterion naming a metric the version never recorded is a mistake in the criteria, not
 * in the version: the step fails naming it and leaves the version alone. Idempotent: a retried step
 * finds the version already moved and returns the same answer. Not cached: it reads the registry,
 * which changes.
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { modelVersionDataset } from '../../src/lineage/datasets.js';
import { defineStep } from '../../src/pipeline/step.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { requireVersion } from '../../src/registry/lookup.js';
import { readVersionMetadata } from '../../src/registry/version-metadata.js';

/** One release criterion: a recorded metric of the version, at least `min` and/or at most `max`. */
export const criterionSchema = z
  .object({ metric: z.string().min(1), min: z.number().optional(), max: z.number().optional() })
  .refine((c) => c.min !== undefined || c.max !== undefined, { message: 'a criterion needs min and/or max' });

export type ReleaseCriterionInput = z.output<typeof criterionSchema>;

/** A criterion with the version's value and its verdict. */
const criterionResult = z.object({ metric: z.string(), min: z.number().optional(), max: z.number().optional(), value: z.number(), passed: z.boolean() });

/** The criteria a version fails, in words; a metric the version did not record is an error naming it. */
export function checkCriteria(
  model: string,
  version: number,
  metrics: Record<string, unknown>,
  criteria: readonly ReleaseCriterionInput[],
): Array<z.output<typeof criterionResult> & { failure: string | null }> {
  const recorded = Object.keys(metrics).filter((k) => typeof metrics[k] === 'number').sort();
  return criteria.map((c) => {
    const value = metrics[c.metric];
    if (typeof value !== 'number') {
      throw new ValidationError(
        `Release criterion on "${c.metric}" cannot be checked: ${model} v${version} recorded no such metric; it recorded ${recorded.join(', ') || 'none'}. Fix the criterion's metric.`,
        { metric: c.metric, recorded },
      );
    }
    const below = c.min !== undefined && value < c.min;
    const above = c.max !== undefined && value > c.max;
    const failure = below ? `${c.metric} ${fmt(value)} is below the release minimum ${c.min}` : above ? `${c.metric} ${fmt(value)} is above the release maximum ${c.max}` : null;
    return { metric: c.metric, ...(c.min !== undefined ? { min: c.min } : {}), ...(c.max !== undefined ? { max: c.max } : {}), value, passed: failure === null, failure };
  });
}

const fmt = (x: number) => (Math.abs(x) >= 1_000 ? x.toFixed(1) : x.toFixed(4));

export const validateModel = defineStep({
  name: 'validateModel',
  // v2: criteria on any recorded metric (minRocAuc still accepted, as a criterion on rocAuc).
  version: '2',
  description: 'Validate a registered model version against the release criteria (its metrics, behavioural checks)',
  input: z.object({
    modelName: z.string().min(1),
    version: z.number().int().positive(),
    /** Bounds on the version's recorded metrics; none means only the behavioural checks decide. */
    criteria: z.array(criterionSchema).default([]),
    /** The least held-out ROC AUC (runs recorded before criteria existed): the same as a criterion { metric: 'rocAuc', min }. */
    minRocAuc: z.number().min(0).max(1).optional(),
    /**
     * What a failed behavioural check does: 'block' rejects the version; 'review' lets it through to
     * the sign-off with the failures listed in front of the reviewers.
     */
    behaviour: z.enum(['block', 'review']),
    /** Whether a version with no recorded behavioural check fails (default true; false for a model that declares none). */
    requireChecks: z.boolean().default(true),
  }),
  output: z.object({
    modelName: z.string(),
    version: z.number().int(),
    /** The version's recorded metrics. */
    metrics: z.record(z.string(), z.number()),
    /** Every criterion with the version's value and whether it passed. */
    criteria: z.array(criterionResult),
    /** The held-out ROC AUC, when recorded (a classifier). */
    rocAuc: z.number().nullable(),
    /** How many behavioural checks were recorded. */
    checks: z.number().int(),
    /** The failed behavioural checks, in words (for the reviewers when behaviour is 'review'). */
    failedChecks: z.array(z.string()),
    passed: z.boolean(),
    status: z.string(),
  }),
  // Validation reads the registry, which changes: never reuse an old answer.
  cache: false,
  async run(input, ctx) {
    const version = await requireVersion(ctx.db, input.modelName, input.version);
    const raw = version.metrics as Record<string, unknown>;
    const metrics = Object.fromEntries(Object.entries(raw).filter((e): e is [string, number] => typeof e[1] === 'number'));
    const criteria = [...input.criteria, ...(input.minRocAuc !== undefined ? [{ metric: 'rocAuc', min: input.minRocAuc }] : [])];
    const checked = checkCriteria(input.modelName, input.version, metrics, criteria);
    const { metadata } = readVersionMetadata(version.metadata);
    const failures = checked.flatMap((c) => (c.failure ? [c.failure] : []));
    const checks = metadata.behaviour?.results ?? [];
    if (checks.length === 0 && input.requireChecks) failures.push('no behavioural checks were recorded');
    const failedChecks = checks.filter((c) => !c.passed).map((c) => `"${c.name}" failed on ${c.violations} of ${c.rowsTested} rows`);
    if (input.behaviour === 'block') failures.push(...failedChecks.map((c) => `behavioural check ${c}`));
    const summary = {
      modelName: input.modelName,
      version: input.version,
      metrics,
      criteria: checked.map(({ failure: _failure, ...c }) => c),
      rocAuc: metrics.rocAuc ?? null,
      checks: checks.length,
      failedChecks,
    };
    if (version.status !== 'registered') {
      // A retry, or a version validated before: the recorded status is the answer.
      if (version.status === 'rejected') throw new ValidationError(`${input.modelName} v${input.version} was already rejected at validation.`);
      return { ...summary, passed: true, status: version.status };
    }
    const met = checked.map((c) => `${c.metric} ${fmt(c.value)}${c.min !== undefined ? ` >= ${c.min}` : ''}${c.max !== undefined ? ` <= ${c.max}` : ''}`);
    const reason = failures.length
      ? `Validation failed: ${failures.join('; ')}`
      : `Validation passed: ${met.length ? met.join(', ') : 'no metric criteria'}; ${checks.length - failedChecks.length} of ${checks.length} behavioural checks passed` +
        (failedChecks.length ? ` (failures go to the reviewers: ${failedChecks.join('; ')})` : '');
    await transitionModelVersion(ctx.db, { modelName: input.modelName, version: input.version, to: failures.length ? 'rejected' : 'validated', actor: 'steward', reason, workflowId: ctx.runId });
    if (failures.length) throw new ValidationError(`${input.modelName} v${input.version} is not releasable: ${failures.join('; ')}.`, { failures });
    return { ...summary, passed: true, status: 'validated' };
  },
  lineage: (input) => ({ inputs: [modelVersionDataset(input.modelName, input.version)] }),
});
