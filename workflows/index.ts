// The workflows the worker bundles. One file per workflow, with its queries, signals and updates.
export { runPipeline, runStateQuery } from './run-pipeline.js';
export { fanOutBatch } from './fan-out.js';
export { approvalsQuery, decideSignal, decideUpdate } from './approval.js';
export { deploymentStateQuery, rollbackModel, rollbackSignal, rollbackUpdate, runDeployment } from './deployment.js';
