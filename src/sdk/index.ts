/**
 * `steward`: the public API a team's project imports. Pipelines are typed DAGs of steps; a step is
 * declared once (schemas, implementation, lineage, access) with `defineStep`; a model is declared
 * with `defineModel` (task, features, label, candidates, release criteria, card); a project gathers
 * pipelines, steps, models and feature definitions in `steward.config.ts` with `defineProject`.
 *
 * Objects that cross the boundary come from one copy: `z` is the zod Steward validates with
 * (zod is a peer dependency; `import { z } from 'steward'` or from 'zod', the same module).
 */
export { z } from 'zod';

// Authoring: steps, pipelines, references and conditions.
export {
  defineStep,
  at,
  eq,
  ne,
  gt,
  gte,
  lt,
  lte,
  oneOf,
  isTrue,
  isFalse,
  allOf,
  anyOf,
  not,
  describeIssues,
  type Step,
  type StepDeclaration,
  type StepNode,
  type StepOptions,
  type StepRunContext,
  type TypedRef,
  type Wired,
  type OutputRefs,
} from '../pipeline/step.js';
export { definePipeline, fanOut, childPipeline, approvalGate, deployModel, item, runId, scheduledAt, type Pipeline, type ParamRefs } from '../pipeline/definition.js';
export type { PipelineSpec, StepSpec, Condition, ApprovalPolicy, ApprovalCondition, RetrySpec, Template, Ref } from '../pipeline/spec.js';
export type { StepAccess, StepServices } from '../pipeline/step-runtime.js';

// Projects.
export { defineProject, type ModelPipelineFactory, type Project, type ProjectDeclaration } from '../project/define.js';

// Models: a declaration becomes Steward's train-, release- and drift-retrain-<model> pipelines when listed in a project's models.
export {
  defineModel,
  modelPipelineNames,
  DEFAULT_CANDIDATES,
  type ModelDeclaration,
  type CandidateDeclaration,
  type FairnessDeclaration,
  type BehaviourDeclaration,
  type ReleaseCriterion,
  type ModelCardDeclaration,
  type MonitoringDeclaration,
} from '../pipeline/model.js';
export type { LabelDefinition, LabelTransform } from '../features/training-set.js';
export { TASKS, ALGORITHMS, TASK_METRICS, PRIMARY_METRIC, type Task, type Algorithm, type AlgorithmParams } from '../ml/tabular/task.js';

// Lineage: the datasets a step declares it reads and writes.
export { artifactDataset, sourceDataset, featureViewDataset, modelVersionDataset, deploymentDataset, rowCountFacets } from '../lineage/datasets.js';
export type { StepLineage } from '../lineage/step-events.js';

// Errors a step throws: their kind decides retries (ValidationError never retries).
export { StewardError, ValidationError, NotFoundError, ConflictError, ConfigError, UnavailableError, isStewardError } from '../errors.js';

// Run results and states, as the client and the CLI show them.
export type { RunState, StepState, StepStatus, RunPipelineResult } from '../contracts.js';
