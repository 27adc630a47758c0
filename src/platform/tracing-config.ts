/**
 * The configured tracing, or undefined when no OTLP endpoint is set. The OpenTelemetry SDK is loaded
 * only then, so commands that do not trace do not pay for it at startup.
 */
import { createRequire } from 'node:module';
import type { StewardConfig } from './config.js';
import type { Tracing } from './tracing.js';

/** The workflow-side interceptor module, bundled with the workflows when tracing is on. */
export const workflowTracingModules: string[] = [createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export async function configuredTracing(config: Pick<StewardConfig, 'tracing'>): Promise<Tracing | undefined> {
  if (!config.tracing.endpoint && !config.tracing.tracesEndpoint) return undefined;
  const { Tracing } = await import('./tracing.js');
  return Tracing.otlp(config.tracing);
}
