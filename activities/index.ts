/**
 * All of Steward's activities, built by one factory from injected dependencies. The worker wires
 * the real stores; tests wire their own. Workflows import only the `Activities` type.
 */
import type { Database } from '../src/db/client.js';
import type { OnceOptions } from '../src/db/idempotency.js';
import { authorize } from '../src/governance/access.js';
import { createLineageSink, type LineageOptions } from '../src/lineage/store.js';
import type { Pipeline } from '../src/pipeline/definition.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';
import type { ScorerAdmin } from '../src/serving/scorer-client.js';
import { createApprovalActivities } from './approvals.js';
import { createDeploymentActivities } from './deployment.js';
import { withFailureMapping } from './failures.js';
import { createGovernanceSteps } from './governance-steps.js';
import { createFeatureStepImplementations } from './features.js';
import { createMonitoringSteps } from './monitoring-steps.js';
import { createReleaseSteps } from './release-steps.js';
import { createScoringSteps } from './scoring-steps.js';
import { createPipelineActivities } from './pipeline.js';
import { createStepImplementations } from './steps.js';
import { withStepLineage } from './lineage.js';

export interface ActivityDependencies {
  db: Database;
  /** Where training sets and models are kept (content-addressed). */
  artifacts: ArtifactStore;
  /** The pipelines this worker can run (pipelines/index.ts). */
  pipelines: readonly Pipeline[];
  /** Extra step implementations (tests and benchmarks add their own). */
  extraSteps?: StepImplementations;
  /** Test-only fault injection: the name of a write ("ingest", "summarize") after whose commit the process SIGKILLs itself. */
  crashAfterCommit?: string;
  /** The scorer deployments drive (its admin API); asked for at each use, so it may come up after the worker. */
  scorer?: () => ScorerAdmin;
  /** Where step lineage goes besides the database: an OpenLineage endpoint, and the logger for failed POSTs. */
  lineage?: LineageOptions;
}

export function createActivities(deps: ActivityDependencies) {
  const writeOptions: OnceOptions = {
    afterCommit: (key) => {
      if (deps.crashAfterCommit && key.startsWith(`${deps.crashAfterCommit}:`)) {
        process.kill(process.pid, 'SIGKILL');
      }
    },
  };
  const steps = { ...createStepImplementations(deps.db, deps.artifacts, writeOptions), ...createReleaseSteps(deps.db), ...createFeatureStepImplementations(deps.db, deps.artifacts), ...createGovernanceSteps(deps.db), ...createMonitoringSteps(deps.db, deps.artifacts, deps.pipelines), ...createScoringSteps(deps.db, deps.artifacts), ...deps.extraSteps };
  const lineage = createLineageSink(deps.db, deps.lineage);
  return withFailureMapping({
    ...createPipelineActivities(deps.db, deps.pipelines, withStepLineage(deps.db, steps), lineage, async (principal, requirement, context) => {
      await authorize(deps.db, { principal, ...requirement, context });
    }),
    ...createApprovalActivities(deps.db),
    ...createDeploymentActivities(deps.db, deps.scorer, lineage),
  });
}

export type Activities = ReturnType<typeof createActivities>;
