/**
 * All of Steward's activities, built by one factory from injected dependencies. The worker wires
 * the real stores; tests wire their own. Workflows import only the `Activities` type.
 */
import type { Database } from '../src/db/client.js';
import type { OnceOptions } from '../src/db/idempotency.js';
import { authorize } from '../src/governance/access.js';
import { createLineageSink, type LineageOptions } from '../src/lineage/store.js';
import type { Pipeline } from '../src/pipeline/definition.js';
import { sameStep, type Step } from '../src/pipeline/step.js';
import type { StepImplementations, StepServices } from '../src/pipeline/step-runtime.js';
import type { CpuPool } from '../src/platform/cpu-pool.js';
import type { Logger } from '../src/platform/logger.js';
import { ValidationError } from '../src/errors.js';
import type { Definition } from '../src/features/definitions.js';
import type { ExpectationSuite } from '../src/governance/expectations.js';
import type { ArtifactStore } from '../src/artifacts/index.js';
import type { ScorerAdmin } from '../src/serving/scorer-client.js';
import { createApprovalActivities } from './approvals.js';
import { createDeploymentActivities } from './deployment.js';
import { withFailureMapping } from './failures.js';
import { createPipelineActivities } from './pipeline.js';

export interface ActivityDependencies {
  db: Database;
  /** Where training sets and models are kept (content-addressed). */
  artifacts: ArtifactStore;
  /** The pipelines this worker can run (the project's and Steward's built-ins); the steps they use are registered. */
  pipelines: readonly Pipeline[];
  /** Typed steps to register besides those the pipelines use. */
  steps?: readonly Step[];
  /** The project's feature definitions (Steward's and the team's), for steps that read the store. */
  features?: readonly Definition[];
  /** The project's expectation suites and its folder (relative data paths), for the built-in data steps. */
  expectations?: readonly ExpectationSuite[];
  projectRoot?: string;
  /** The pool CPU-heavy steps run in (default: the process's, sized by STEWARD_CPU_THREADS). */
  cpuPool?: CpuPool;
  logger?: Logger;
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
  const steps = stepImplementations(deps.pipelines, deps.steps ?? []);
  const services: StepServices = { db: deps.db, artifacts: deps.artifacts, writeOptions, ...(deps.features ? { features: deps.features } : {}), ...(deps.expectations ? { expectations: deps.expectations } : {}), ...(deps.projectRoot ? { projectRoot: deps.projectRoot } : {}), ...(deps.cpuPool ? { cpuPool: deps.cpuPool } : {}), ...(deps.logger ? { logger: deps.logger } : {}) };
  const lineage = createLineageSink(deps.db, deps.lineage);
  return withFailureMapping({
    ...createPipelineActivities(deps.db, deps.pipelines, steps, lineage, async (principal, requirement, context) => {
      await authorize(deps.db, { principal, ...requirement, context });
    }, services),
    ...createApprovalActivities(deps.db),
    ...createDeploymentActivities(deps.db, deps.scorer, lineage),
  });
}

export type Activities = ReturnType<typeof createActivities>;

/** The implementations of the typed steps the pipelines use and the extra ones, by name; one name, one step. */
function stepImplementations(pipelines: readonly Pipeline[], extra: readonly Step[]): StepImplementations {
  const byName = new Map<string, Step>();
  for (const step of [...extra, ...pipelines.flatMap((p) => p.steps)]) {
    const seen = byName.get(step.name);
    if (seen && sameStep(seen, step)) continue;
    if (seen) throw new ValidationError(`Two different steps are named "${step.name}"; step names are unique across the pipelines a worker runs: rename one.`, { step: step.name });
    byName.set(step.name, step);
  }
  return Object.fromEntries([...byName].map(([name, step]) => [name, step.implementation]));
}
