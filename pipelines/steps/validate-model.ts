/**
 * Validates a registered model version against release criteria (the release and challenge
 * pipelines): a least held-out ROC AUC and the behavioural checks recorded at evaluation. A version
 * that passes moves to `validated`; one that fails moves to `rejected` and the step fails with every
 * reason. Idempotent: a retried step finds the version already moved and returns the same answer.
 * Not cached: it reads the registry, which changes.
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { modelVersionDataset } from '../../src/lineage/datasets.js';
import { defineStep } from '../../src/pipeline/step.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { requireVersion } from '../../src/registry/lookup.js';
import { readVersionMetadata } from '../../src/registry/version-metadata.js';

export const validateModel = defineStep({
  name: 'validateModel',
  version: '1',
  description: 'Validate a registered model version against the release criteria (ROC AUC, behavioural checks)',
  input: z.object({
    modelName: z.string().min(1),
    version: z.number().int().positive(),
    /** The least held-out ROC AUC a release may have. */
    minRocAuc: z.number().min(0).max(1),
    /**
     * What a failed behavioural check does: 'block' rejects the version; 'review' lets it through to
     * the sign-off with the failures listed in front of the reviewers.
     */
    behaviour: z.enum(['block', 'review']),
  }),
  output: z.object({
    modelName: z.string(),
    version: z.number().int(),
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
    const rocAuc = (version.metrics as Record<string, unknown>).rocAuc;
    const { metadata } = readVersionMetadata(version.metadata);
    const failures: string[] = [];
    if (typeof rocAuc !== 'number') failures.push('no held-out ROC AUC was recorded');
    else if (rocAuc < input.minRocAuc) failures.push(`ROC AUC ${rocAuc.toFixed(4)} is below the release minimum ${input.minRocAuc}`);
    const checks = metadata.behaviour?.results ?? [];
    if (checks.length === 0) failures.push('no behavioural checks were recorded');
    const failedChecks = checks.filter((c) => !c.passed).map((c) => `"${c.name}" failed on ${c.violations} of ${c.rowsTested} rows`);
    if (input.behaviour === 'block') failures.push(...failedChecks.map((c) => `behavioural check ${c}`));
    const summary = { modelName: input.modelName, version: input.version, rocAuc: typeof rocAuc === 'number' ? rocAuc : null, checks: checks.length, failedChecks };
    if (version.status !== 'registered') {
      // A retry, or a version validated before: the recorded status is the answer.
      if (version.status === 'rejected') throw new ValidationError(`${input.modelName} v${input.version} was already rejected at validation.`);
      return { ...summary, passed: true, status: version.status };
    }
    const reason = failures.length
      ? `Validation failed: ${failures.join('; ')}`
      : `Validation passed: ROC AUC ${Number(rocAuc).toFixed(4)} >= ${input.minRocAuc}; ${checks.length - failedChecks.length} of ${checks.length} behavioural checks passed` +
        (failedChecks.length ? ` (failures go to the reviewers: ${failedChecks.join('; ')})` : '');
    await transitionModelVersion(ctx.db, { modelName: input.modelName, version: input.version, to: failures.length ? 'rejected' : 'validated', actor: 'steward', reason, workflowId: ctx.runId });
    if (failures.length) throw new ValidationError(`${input.modelName} v${input.version} is not releasable: ${failures.join('; ')}.`, { failures });
    return { ...summary, passed: true, status: 'validated' };
  },
  lineage: (input) => ({ inputs: [modelVersionDataset(input.modelName, input.version)] }),
});
