/**
 * The run events of one pipeline step: job `<pipeline>.<step>` in namespace `steward`, a run id
 * stable across the step's attempts, the pipeline run as parent, the datasets the step's
 * implementation declares, and the source code version. Keys make each event idempotent: one START
 * and one COMPLETE per step run, one FAIL per failed attempt.
 */
import { codeVersion } from '../registry/run-environment.js';
import {
  JOB_NAMESPACE,
  OPENLINEAGE_SCHEMA_URL,
  PRODUCER,
  errorMessageFacet,
  jobTypeFacet,
  parentRunFacet,
  pipelineRunUuid,
  sourceCodeLocationFacet,
  stepRunUuid,
  stewardFacet,
  type EventType,
  type InputDataset,
  type OutputDataset,
  type RunEvent,
} from './openlineage.js';

/** The datasets a step read and wrote, as its implementation declares them. */
export interface StepLineage {
  inputs?: InputDataset[];
  outputs?: OutputDataset[];
}

export interface StepRunIdentity {
  pipeline: string;
  step: string;
  uses: string;
  version: string;
  /** The workflow id of the pipeline run (Steward's run id). */
  workflowId: string;
  workflowRunId?: string;
  attempt: number;
  startedBy?: string;
}

const PACKAGE_VERSION = '0.1.0';

let sourceFacet: Promise<ReturnType<typeof sourceCodeLocationFacet>> | undefined;

/** The code that ran: the git commit (marked dirty) when in a checkout, else the package version. */
function sourceCode() {
  sourceFacet ??= codeVersion().then((code) =>
    code
      ? sourceCodeLocationFacet({ type: 'git', url: `file://${process.cwd()}`, version: `${code.commit}${code.dirty ? '-dirty' : ''}` })
      : sourceCodeLocationFacet({ type: 'package', url: 'https://www.npmjs.com/package/steward', version: PACKAGE_VERSION }),
  );
  return sourceFacet;
}

export function stepRunId(identity: StepRunIdentity): string {
  return stepRunUuid(identity.workflowId, identity.workflowRunId, identity.step);
}

export function stepEventKey(identity: StepRunIdentity, eventType: EventType): string {
  const runId = stepRunId(identity);
  return eventType === 'FAIL' ? `${runId}:FAIL:${identity.attempt}` : `${runId}:${eventType}`;
}

export async function stepRunEvent(
  identity: StepRunIdentity,
  eventType: EventType,
  datasets: StepLineage,
  extra: { cached?: boolean; error?: unknown; declarationError?: string } = {},
): Promise<RunEvent> {
  const runFacets: RunEvent['run']['facets'] = {
    parent: parentRunFacet({ runId: pipelineRunUuid(identity.workflowId, identity.workflowRunId), namespace: JOB_NAMESPACE, name: identity.pipeline }),
    steward_step: stewardFacet('StepRunFacet', {
      workflowId: identity.workflowId,
      ...(identity.workflowRunId ? { workflowRunId: identity.workflowRunId } : {}),
      step: identity.step,
      uses: identity.uses,
      version: identity.version,
      attempt: identity.attempt,
      ...(extra.cached !== undefined ? { cached: extra.cached } : {}),
      ...(identity.startedBy ? { startedBy: identity.startedBy } : {}),
    }),
  };
  if (extra.declarationError !== undefined) {
    runFacets.steward_lineageDeclarationError = stewardFacet('LineageDeclarationErrorRunFacet', { message: extra.declarationError });
  }
  if (extra.error !== undefined) {
    const error = extra.error instanceof Error ? extra.error : new Error(String(extra.error));
    runFacets.errorMessage = errorMessageFacet(error.message, error.stack);
  }
  return {
    eventType,
    eventTime: new Date().toISOString(),
    run: { runId: stepRunId(identity), facets: runFacets },
    job: {
      namespace: JOB_NAMESPACE,
      name: `${identity.pipeline}.${identity.step}`,
      facets: { jobType: jobTypeFacet(), sourceCodeLocation: await sourceCode() },
    },
    inputs: datasets.inputs ?? [],
    outputs: datasets.outputs ?? [],
    producer: PRODUCER,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
  };
}
