/**
 * OpenTelemetry tracing of workflows and activities, off unless configured.
 *
 * When OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, the worker and
 * the Temporal client carry @temporalio/interceptors-opentelemetry's interceptors: starting a run
 * opens a trace (`StartWorkflow:runPipeline`), the executor's workflow task continues it
 * (`RunWorkflow:runPipeline`, exported through a sink so workflow code stays deterministic), and
 * every step's activity is a child span (`StartActivity:runStep` -> `RunActivity:runStep`), so one
 * trace shows a pipeline run end to end in Jaeger, Tempo or any OTLP collector.
 *
 * Workflow spans are produced in the sandbox and handed to the worker through the `exporter` sink,
 * which does not run during replay: replaying a history emits nothing twice. The workflow bundle
 * with the interceptor module is cached under its own key, so turning tracing on or off never
 * reuses the other bundle.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import { stewardPackageVersion } from './package-info.js';

/**
 * Steward's own package.json, found by walking up from this module: it sits two folders up from
 * src/platform in a checkout and three from dist/src/platform in a build or an installed package.
 */
const STEWARD_VERSION = stewardPackageVersion();

export interface TracingConfig {
  /** OTLP/HTTP endpoint (the collector's base URL, e.g. http://localhost:4318); undefined = off. */
  endpoint: string | undefined;
  /** The traces URL itself when it is not `<endpoint>/v1/traces`. */
  tracesEndpoint?: string | undefined;
  /** service.name of the spans (default: steward). */
  serviceName?: string | undefined;
}

/**
 * The interceptors package builds workflow spans with OpenTelemetry's 1.x SDK (`instrumentationLibrary`,
 * `parentSpanId`); Steward's exporters are 2.x (`instrumentationScope`, `parentSpanContext`). Without
 * this translation a 2.x OTLP exporter drops the workflow span's parent and fails on its scope.
 */
function fromWorkflowSpans(processor: SpanProcessor): Pick<SpanProcessor, 'onEnd'> & Partial<SpanProcessor> {
  return {
    onEnd(span) {
      const v1 = span as unknown as ReadableSpan & { instrumentationLibrary?: ReadableSpan['instrumentationScope']; parentSpanId?: string };
      const own = v1.spanContext();
      processor.onEnd({
        ...v1,
        spanContext: v1.spanContext,
        instrumentationScope: v1.instrumentationScope ?? v1.instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
        parentSpanContext: v1.parentSpanContext ?? (v1.parentSpanId ? { traceId: own.traceId, spanId: v1.parentSpanId, traceFlags: own.traceFlags, isRemote: false } : undefined),
      } as ReadableSpan);
    },
  };
}

/** A tracer provider with its processor, shared by the worker's interceptors and the client's. */
export class Tracing {
  readonly tracer: Tracer;
  readonly resource: Resource;
  private readonly provider: NodeTracerProvider;

  constructor(
    readonly processor: SpanProcessor,
    options: { serviceName?: string; register?: boolean } = {},
  ) {
    this.resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'steward', 'service.version': STEWARD_VERSION });
    this.provider = new NodeTracerProvider({ resource: this.resource, spanProcessors: [processor] });
    // Registering sets the global provider, context manager and W3C propagator the interceptors use.
    if (options.register !== false) this.provider.register();
    this.tracer = this.provider.getTracer('steward');
  }

  /** Exports to an OTLP/HTTP collector, in batches off the hot path. */
  static otlp(config: TracingConfig, options: { register?: boolean } = {}): Tracing | undefined {
    if (!config.endpoint && !config.tracesEndpoint) return undefined;
    const url = config.tracesEndpoint ?? `${config.endpoint!.replace(/\/+$/, '')}/v1/traces`;
    return new Tracing(new BatchSpanProcessor(new OTLPTraceExporter({ url })), { serviceName: config.serviceName, register: options.register });
  }

  /** Spans to any exporter (tests use the in-memory one). */
  static to(exporter: SpanExporter, processor: (e: SpanExporter) => SpanProcessor, options?: { serviceName?: string }): Tracing {
    return new Tracing(processor(exporter), options);
  }

  /**
   * What Worker.create needs: activity interceptors and the workflow span sink. The workflow-side
   * interceptors are bundled with the workflows instead (`workflowTracingModules`).
   */
  workerOptions(): { interceptors: WorkerInterceptors; sinks: InjectedSinks<Record<string, never>> } {
    const options = { tracer: this.tracer };
    return {
      interceptors: {
        activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      sinks: { exporter: makeWorkflowExporter(fromWorkflowSpans(this.processor) as never, this.resource as never) } as unknown as InjectedSinks<Record<string, never>>,
    };
  }

  /** The client side: a started workflow carries the caller's trace context in its headers. */
  clientInterceptors(): WorkflowClientInterceptor[] {
    return [new OpenTelemetryWorkflowClientInterceptor({ tracer: this.tracer })];
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
    trace.disable();
  }
}
