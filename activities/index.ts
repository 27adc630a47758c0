/**
 * All of Steward's activities, built by one factory from injected dependencies. The worker wires
 * the real stores; tests wire their own. Workflows import only the `Activities` type.
 */
import type { Database } from '../src/db/client.js';
import type { OnceOptions } from '../src/db/idempotency.js';
import type { Pipeline } from '../src/pipeline/definition.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';
import { createApprovalActivities } from './approvals.js';
import { withFailureMapping } from './failures.js';
import { createFeatureStepImplementations } from './features.js';
import { createReleaseSteps } from './release-steps.js';
import { createPipelineActivities } from './pipeline.js';
import { createStepImplementations } from './steps.js';

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
}

export function createActivities(deps: ActivityDependencies) {
  const writeOptions: OnceOptions = {
    afterCommit: (key) => {
      if (deps.crashAfterCommit && key.startsWith(`${deps.crashAfterCommit}:`)) {
        process.kill(process.pid, 'SIGKILL');
      }
    },
  };
  const steps = { ...createStepImplementations(deps.db, deps.artifacts, writeOptions), ...createReleaseSteps(deps.db), ...createFeatureStepImplementations(deps.db, deps.artifacts), ...deps.extraSteps };
  return withFailureMapping({
    ...createPipelineActivities(deps.db, deps.pipelines, steps),
    ...createApprovalActivities(deps.db),
  });
}

export type Activities = ReturnType<typeof createActivities>;
