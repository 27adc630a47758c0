/**
 * `steward/registry`: the model registry and the artifact store, as a project's steps reach them
 * through their context (`ctx.db`, `ctx.artifacts`). Registration is idempotent (the same artifact
 * under the same name returns the version it already has) and checks the artifact before anything
 * is written: its hash, that it parses as ONNX, and that its inputs and outputs are the declared
 * signature. Training runs recorded with `recordTrainingRun` link a version to the run, the
 * training set and its parameters (`steward runs`, `steward lineage`).
 *
 * @example
 * import { recordTrainingRun, registerModelVersion } from 'steward/registry';
 * await recordTrainingRun(ctx.db, { key: ctx.idempotencyKey, experiment: 'rain-tomorrow', workflowId: ctx.runId, ... });
 * const { version, created } = await registerModelVersion(ctx.db, {
 *   modelName: 'rain-tomorrow', artifactUri: input.modelUri, artifactSha256: input.modelSha256,
 *   trainingSetUri: input.trainingSetUri, metrics: input.metrics, signature: input.signature, runId: ctx.runId,
 * }, { artifacts: ctx.artifacts });
 */
export { registerModelVersion, type RegisterInput, type RegisterOptions } from '../registry/models.js';
export { recordTrainingRun, getRun, listRuns, compareRuns, type TrainingRunInput, type RunDetails, type RunComparison } from '../registry/runs.js';
export { listModels, listVersions, resolveModelRef, resolveVersion, parseModelRef, type ModelRef, type ModelSummary, type VersionSummary } from '../registry/lookup.js';
export { setAlias, unsetAlias, type AliasChange, type SetAliasInput, type UnsetAliasInput } from '../registry/aliases.js';
export { transitionModelVersion, MODEL_STATUSES, type ModelStatus, type TransitionInput } from '../registry/lifecycle.js';
export { modelHistoryOf, versionHistoryOf } from '../registry/history.js';
export { loadModelCard, renderModelCard, type ModelCard } from '../registry/model-card.js';
export { checkVersionMetadata, type VersionMetadata } from '../registry/version-metadata.js';
export { LocalArtifactStore, sha256Hex, type Artifact, type ArtifactStore } from '../artifacts/index.js';
export type { ModelVersion, ModelAlias, ModelHistoryEvent, ExperimentRun } from '../db/schema.js';
export type { Database } from '../db/client.js';
