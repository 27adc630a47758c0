/**
 * The release path's steps (pipelines/release-flight-delay.ts): validate a registered version
 * against release criteria, and promote an approved one. Both are idempotent: a retried activity
 * finds the version already moved and returns the same answer.
 */
import type { Database } from '../src/db/client.js';
import { ValidationError } from '../src/errors.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';
import { setAlias } from '../src/registry/aliases.js';
import { transitionModelVersion } from '../src/registry/lifecycle.js';
import { requireVersion } from '../src/registry/lookup.js';
import { readVersionMetadata } from '../src/registry/version-metadata.js';

export interface ValidateInput {
  modelName: string;
  version: number;
  /** The least held-out ROC AUC a release may have. */
  minRocAuc: number;
  /**
   * What a failed behavioural check does: 'block' rejects the version; 'review' lets it through to
   * the sign-off with the failures listed in front of the reviewers.
   */
  behaviour: 'block' | 'review';
}

export function createReleaseSteps(db: Database): StepImplementations {
  return {
    validateModel: {
      run: async (input: ValidateInput, ctx) => {
        const version = await requireVersion(db, input.modelName, input.version);
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
        await transitionModelVersion(db, { modelName: input.modelName, version: input.version, to: failures.length ? 'rejected' : 'validated', actor: 'steward', reason, workflowId: ctx.runId });
        if (failures.length) throw new ValidationError(`${input.modelName} v${input.version} is not releasable: ${failures.join('; ')}.`, { failures });
        return { ...summary, passed: true, status: 'validated' };
      },
    },
    promoteModel: {
      run: async (input: { modelName: string; version: number; alias: string; approvalId: string; reviewers: string }, ctx) => {
        const change = await setAlias(db, {
          modelName: input.modelName,
          alias: input.alias,
          version: input.version,
          actor: 'steward',
          reason: `Approved through ${input.approvalId} by ${input.reviewers}`,
          workflowId: ctx.runId,
          // After the sign-off: the step runtime checked the run's principal for deploy before this ran.
          principal: null,
        });
        return { modelName: input.modelName, version: input.version, alias: input.alias, previous: change.previous, changed: change.changed };
      },
    },
  };
}
