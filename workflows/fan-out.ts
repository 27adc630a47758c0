/**
 * One batch of a fan-out step, as a child workflow: its own history holds its items' activities,
 * so a fan-out over thousands of items never crowds the parent's history.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { resolveTemplate, type FanOutStepSpec } from '../src/pipeline/spec.js';
import { stepActivityOptions } from './step-options.js';

export interface FanOutBatchInput {
  runId: string;
  /** The pipeline and the principal who started it, for the steps' lineage and access checks. */
  pipeline?: string;
  startedBy?: string;
  step: string;
  each: FanOutStepSpec['each'];
  items: unknown[];
  /** The first item's index in the whole fan-out (for activity ids and error messages). */
  firstIndex: number;
  concurrency: number;
  cache: boolean;
}

export interface FanOutBatchResult {
  outputs: Record<string, unknown>[];
  cached: number;
}

export async function fanOutBatch(input: FanOutBatchInput): Promise<FanOutBatchResult> {
  const info = workflowInfo();
  const outputs: Record<string, unknown>[] = new Array(input.items.length);
  let cached = 0;
  let next = 0;
  const lane = async () => {
    while (next < input.items.length) {
      const i = next++;
      const index = input.firstIndex + i;
      const name = `${input.step}[${index}]`;
      const { runStep } = proxyActivities<Activities>(stepActivityOptions(input.each, name));
      const stepInput = resolveTemplate(input.each.input, { params: {}, outputs: {}, item: input.items[i], run: { id: input.runId, pipeline: '', startedAt: info.startTime.toISOString(), scheduledAt: '' } }, `Step "${name}"`);
      const result = await runStep({ runId: input.runId, ...(input.pipeline ? { pipeline: input.pipeline } : {}), ...(input.startedBy ? { startedBy: input.startedBy } : {}), step: name, uses: input.each.uses, version: input.each.version, input: stepInput, cache: input.cache && input.each.cache });
      outputs[i] = result.output;
      if (result.cached) cached++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.items.length) }, lane));
  return { outputs, cached };
}
