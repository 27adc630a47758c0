/**
 * The pipelines a deployment knows (pipelines/index.ts), looked up by name, with parameter
 * parsing and validation shared by the CLI, the HTTP API and the executor's first activity.
 */
import { NotFoundError, ValidationError } from '../errors.js';
import type { Pipeline } from './definition.js';
import { isRef, type Template } from './spec.js';

export function findPipeline(catalog: readonly Pipeline[], name: string): Pipeline {
  const pipeline = catalog.find((p) => p.name === name);
  if (!pipeline) {
    throw new NotFoundError(`Unknown pipeline "${name}". Known pipelines: ${catalog.map((p) => p.name).join(', ')}.`, { pipeline: name });
  }
  return pipeline;
}

/** Parses `--param key=value` pairs; values stay strings for the schema to coerce. */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--param expects key=value, got "${pair}".`, { param: pair });
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

/** The parameters after the pipeline's schema: coerced, with defaults filled in. */
export function validateParams(pipeline: Pipeline, raw: Record<string, unknown>): Record<string, unknown> {
  const parsed = pipeline.params.strict().safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(params)'}: ${issue.message}`);
    throw new ValidationError(`Invalid parameters for pipeline "${pipeline.name}": ${problems.join('; ')}.`, { pipeline: pipeline.name, problems });
  }
  return parsed.data as Record<string, unknown>;
}

/** Checks what one pipeline cannot check alone: child pipelines exist and do not call each other in a loop. */
export function validateCatalog(catalog: readonly Pipeline[]): void {
  const names = new Set<string>();
  for (const pipeline of catalog) {
    if (names.has(pipeline.name)) throw new ValidationError(`Two pipelines are named "${pipeline.name}".`);
    names.add(pipeline.name);
  }
  const children = (p: Pipeline) => p.spec.steps.flatMap((s) => (s.kind === 'pipeline' ? [{ step: s.name, child: s.pipeline }] : []));
  for (const pipeline of catalog) {
    for (const { step, child } of children(pipeline)) {
      if (!names.has(child)) {
        throw new ValidationError(`Pipeline "${pipeline.name}": step "${step}" runs unknown pipeline ${JSON.stringify(child)}. Known pipelines: ${[...names].join(', ')}.`, {
          pipeline: pipeline.name,
          step,
        });
      }
    }
    for (const step of pipeline.spec.steps) if (step.kind === 'pipeline') checkChildParams(pipeline.name, step.name, findPipeline(catalog, step.pipeline), step.params);
  }
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) throw new ValidationError(`Pipelines run each other in a cycle: ${[...path, name].join(' -> ')}.`);
    for (const { child } of children(findPipeline(catalog, name))) visit(child, [...path, name]);
  };
  for (const pipeline of catalog) visit(pipeline.name, []);
}

/**
 * The parameters a parent passes to a child pipeline, against the child's schema, so a mistake
 * fails when the catalog loads rather than after the parent's earlier steps ran: names the child
 * does not take, required ones left out, and literal values its schema refuses (references are
 * resolved only in the run).
 */
function checkChildParams(parent: string, step: string, child: Pipeline, params: Template): void {
  const where = `Pipeline "${parent}": step "${step}" runs pipeline "${child.name}"`;
  if (isRef(params)) return;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ValidationError(`${where} with parameters ${JSON.stringify(params)}; pass an object of its parameters, e.g. { rows: param('rows') }.`, { pipeline: parent, step });
  }
  const shape = child.params.shape as Record<string, { safeParse(value: unknown): { success: boolean; error?: { issues: Array<{ message: string }> } } }>;
  const takes = Object.keys(shape);
  for (const [name, value] of Object.entries(params)) {
    if (!Object.hasOwn(shape, name)) {
      throw new ValidationError(`${where} with parameter "${name}", which that pipeline does not take (it takes: ${takes.join(', ') || 'none'}).`, { pipeline: parent, step, param: name });
    }
    if (!containsRef(value)) {
      const parsed = shape[name]!.safeParse(value);
      if (!parsed.success) {
        throw new ValidationError(`${where} with ${name}=${JSON.stringify(value)}, which its schema refuses: ${parsed.error!.issues.map((i) => i.message).join('; ')}.`, { pipeline: parent, step, param: name });
      }
    }
  }
  for (const name of takes) {
    if (!Object.hasOwn(params, name) && !shape[name]!.safeParse(undefined).success) {
      throw new ValidationError(`${where} without parameter "${name}", which that pipeline requires; pass it, e.g. ${name}: param('${name}').`, { pipeline: parent, step, param: name });
    }
  }
}

function containsRef(template: unknown): boolean {
  if (isRef(template)) return true;
  if (Array.isArray(template)) return template.some(containsRef);
  if (template && typeof template === 'object') return Object.values(template).some(containsRef);
  return false;
}
