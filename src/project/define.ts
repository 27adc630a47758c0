/**
 * A project: what a team declares in its `steward.config.ts` (its pipelines, steps, feature
 * definitions, models, enrichments, expectations and catalog entries). The CLI, the worker, the HTTP
 * API and schedules all read the same combined project: Steward's built-ins plus the team's.
 *
 * A declared model (`defineModel`) becomes pipelines (`train-<model>`, `release-<model>`,
 * `drift-retrain-<model>`) made by a factory the built-in project supplies (`modelPipelines`,
 * pipelines/models.ts): src/ never imports the built-in pipelines, so a team's project lists its
 * models and `combineProjects` makes their pipelines with the built-ins' factory.
 *
 * @example
 * // steward.config.ts
 * import { defineProject } from 'steward';
 * export default defineProject({ name: 'weather', pipelines: [trainRain], features: [station, daily] });
 */
import { ValidationError } from '../errors.js';
import type { Definition } from '../features/definitions.js';
import type { CatalogEntry } from '../governance/catalog.js';
import type { ExpectationSuite } from '../governance/expectations.js';
import { validateCatalog } from '../pipeline/catalog.js';
import type { Pipeline } from '../pipeline/definition.js';
import { defineModel, isModelDeclaration, modelPipelineNames, type ModelDeclaration } from '../pipeline/model.js';
import { sameStep, type Step } from '../pipeline/step.js';
import type { EnricherConfig } from '../serving/enrichment.js';

export interface ProjectDeclaration {
  /** Lowercase letters, digits and '-': it namespaces what could clash between projects. */
  name: string;
  description?: string;
  pipelines?: readonly Pipeline[];
  /** Steps to register besides those the pipelines use (e.g. for pipelines started elsewhere). */
  steps?: readonly Step[];
  /** Entities, feature views, on-demand views and feature services (`steward apply` plans them). */
  features?: readonly Definition[];
  /** Models declared with defineModel: each gets Steward's train, release and drift-retrain pipelines. */
  models?: readonly ModelDeclaration[];
  /**
   * What makes a declared model's pipelines (Steward's built-in project supplies it: pipelines/models.ts);
   * a project with its own is expanded by it instead of the built-ins'.
   */
  modelPipelines?: ModelPipelineFactory;
  /** Which served models the scorer may enrich from the online store, by model name. */
  enrichments?: Readonly<Record<string, EnricherConfig>>;
  /** Data-quality expectations, each declared for a dataset. */
  expectations?: readonly ExpectationSuite[];
  /** Catalog entries for datasets the feature definitions do not describe (raw sources, labels). */
  catalog?: readonly CatalogEntry[];
  /** What `steward start` (the project's `npm start`) runs: a pipeline of the project and its parameters. */
  start?: { pipeline: string; params?: Record<string, unknown> };
}

/** Makes a declared model's pipelines, given the project's expectations and feature definitions. */
export type ModelPipelineFactory = (model: ModelDeclaration, project: { expectations: readonly ExpectationSuite[]; definitions: readonly Definition[] }) => readonly Pipeline[];

export interface Project {
  readonly name: string;
  readonly description: string;
  /** Its pipelines, with its models' once a factory made them (defineProject with one, or combineProjects). */
  readonly pipelines: readonly Pipeline[];
  readonly models: readonly ModelDeclaration[];
  /** Models whose pipelines are not made yet: combineProjects makes them with the built-ins' factory. */
  readonly pendingModels: readonly ModelDeclaration[];
  readonly modelPipelines?: ModelPipelineFactory;
  /** Every step the project's worker registers, by name. */
  readonly steps: ReadonlyMap<string, Step>;
  readonly features: readonly Definition[];
  readonly enrichments: Readonly<Record<string, EnricherConfig>>;
  readonly expectations: readonly ExpectationSuite[];
  readonly catalog: readonly CatalogEntry[];
  /** Where it was loaded from (a steward.config.ts), when it was. */
  readonly source?: string;
  readonly start?: { pipeline: string; params?: Record<string, unknown> };
}

const PROJECT_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Declares a project; checks names are unique and every step a pipeline uses is known. */
export function defineProject(declaration: ProjectDeclaration, options: { source?: string } = {}): Project {
  const from = options.source ? ` (${options.source})` : '';
  if (typeof declaration !== 'object' || declaration === null) throw new ValidationError(`The project${from} is not an object; export default defineProject({ name, pipelines, ... }).`);
  if (typeof declaration.name !== 'string' || !PROJECT_NAME.test(declaration.name)) {
    throw new ValidationError(`The project${from} is named ${JSON.stringify(declaration.name)}; a project name is lowercase letters, digits and '-', starting with a letter (at most 40), e.g. name: 'rain-tomorrow'.`);
  }
  const where = `Project "${declaration.name}"${from}`;
  for (const key of ['pipelines', 'steps', 'features', 'models', 'expectations', 'catalog'] as const) {
    if (declaration[key] !== undefined && !Array.isArray(declaration[key])) throw new ValidationError(`${where}: ${key} must be a list.`, { project: declaration.name });
  }
  const pipelines = [...(declaration.pipelines ?? [])];
  pipelines.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof p.spec !== 'object' || !Array.isArray(p.steps)) {
      throw new ValidationError(`${where}: pipeline ${i + 1} is not a pipeline; make each with definePipeline(...).`, { project: declaration.name });
    }
  });
  if (declaration.modelPipelines !== undefined && typeof declaration.modelPipelines !== 'function') {
    throw new ValidationError(`${where}: modelPipelines must be a function of a model declaration.`, { project: declaration.name });
  }
  const models = (declaration.models ?? []).map((model) => {
    try {
      return isModelDeclaration(model) ? model : defineModel(model);
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`${where}: ${error.message}`, { project: declaration.name, ...error.details });
      throw error;
    }
  });
  const expand = declaration.modelPipelines;
  if (expand) {
    const context = { expectations: declaration.expectations ?? [], definitions: declaration.features ?? [] };
    for (const model of models) pipelines.push(...expand(model, context));
  }
  const steps = new Map<string, Step>();
  const addStep = (step: Step, by: string) => {
    const seen = steps.get(step.name);
    if (seen && seen !== step) throw new ValidationError(`${where}: two different steps are named "${step.name}" (the second from ${by}); rename one.`, { project: declaration.name, step: step.name });
    steps.set(step.name, step);
  };
  for (const step of declaration.steps ?? []) addStep(step, 'steps');
  for (const pipeline of pipelines) for (const step of pipeline.steps) addStep(step, `pipeline "${pipeline.name}"`);
  const project: Project = {
    name: declaration.name,
    description: declaration.description ?? '',
    pipelines,
    models,
    pendingModels: expand ? [] : models,
    ...(expand ? { modelPipelines: expand } : {}),
    steps,
    features: [...(declaration.features ?? [])],
    enrichments: { ...(declaration.enrichments ?? {}) },
    expectations: [...(declaration.expectations ?? [])],
    catalog: [...(declaration.catalog ?? [])],
    ...(options.source ? { source: options.source } : {}),
    ...(declaration.start ? { start: declaration.start } : {}),
  };
  checkNames(where, project);
  // A pending model's pipelines are made later, under names known now.
  const known = [...pipelines.map((p) => p.name), ...project.pendingModels.flatMap((m) => Object.values(modelPipelineNames(m.name)))];
  if (project.start && !known.includes(project.start.pipeline)) {
    throw new ValidationError(`${where}: start names pipeline "${project.start.pipeline}", which the project does not declare (pipelines: ${known.join(', ') || 'none'}).`, { project: declaration.name });
  }
  return project;
}

/** The project with its pending models' pipelines made by `factory` (and their steps registered). */
function expandModels(where: string, project: Project, factory: ModelPipelineFactory | undefined): Project {
  if (project.pendingModels.length === 0) return project;
  if (!factory) {
    throw new ValidationError(
      `${where} declares models (${project.pendingModels.map((m) => m.name).join(', ')}), but nothing makes their pipelines: run it with Steward's built-in project (steward's CLI and worker do), or give defineProject a modelPipelines factory.`,
      { project: project.name },
    );
  }
  const context = { expectations: project.expectations, definitions: project.features };
  const made = project.pendingModels.flatMap((model) => [...factory(model, context)]);
  const steps = new Map(project.steps);
  for (const pipeline of made) {
    for (const step of pipeline.steps) {
      const seen = steps.get(step.name);
      if (seen && seen !== step) throw new ValidationError(`${where}: two different steps are named "${step.name}" (the second from pipeline "${pipeline.name}"); rename one.`, { project: project.name, step: step.name });
      steps.set(step.name, step);
    }
  }
  const expanded: Project = { ...project, pipelines: [...project.pipelines, ...made], steps, pendingModels: [] };
  checkNames(where, expanded);
  return expanded;
}

function checkNames(where: string, project: Project): void {
  const duplicate = <T>(items: readonly T[], key: (item: T) => string, what: string) => {
    const seen = new Set<string>();
    for (const item of items) {
      const name = key(item);
      if (seen.has(name)) throw new ValidationError(`${where}: two ${what} are named "${name}"; rename one.`, { project: project.name, name });
      seen.add(name);
    }
  };
  duplicate(project.pipelines, (p) => p.name, 'pipelines');
  duplicate(project.models, (m) => m.name, 'models');
  duplicate(project.features, (d) => `${d.kind} ${d.name}`, 'feature definitions');
  duplicate(project.expectations, (s) => s.dataset, 'expectation suites for one dataset; merge them, as');
  duplicate(project.catalog, (c) => c.name, 'catalog entries');
}

/**
 * Steward's built-ins and a team's project as one: the team's definitions come first, built-in
 * steps are always available, and a name both declare is an error naming both.
 */
export function combineProjects(builtins: Project, own?: Project): Project {
  if (!own) return builtins;
  const where = `Project "${own.name}"${own.source ? ` (${own.source})` : ''}`;
  const project = expandModels(where, own, own.modelPipelines ?? builtins.modelPipelines);
  const models = new Set(builtins.models.map((m) => m.name));
  for (const model of project.models) {
    if (models.has(model.name)) throw new ValidationError(`${where}: model "${model.name}" has the name of a built-in model; rename it.`, { project: project.name, model: model.name });
  }
  const steps = new Map(builtins.steps);
  for (const [name, step] of project.steps) {
    const builtin = steps.get(name);
    if (builtin && !sameStep(builtin, step)) {
      throw new ValidationError(`${where}: step "${name}" has the name of a built-in step; rename it.`, { project: project.name, step: name });
    }
    // The same built-in step loaded through another copy of the SDK: keep Steward's own.
    if (!builtin) steps.set(name, step);
  }
  const pipelineNames = new Set(builtins.pipelines.map((p) => p.name));
  for (const pipeline of project.pipelines) {
    if (pipelineNames.has(pipeline.name)) throw new ValidationError(`${where}: pipeline "${pipeline.name}" has the name of a built-in pipeline; rename it.`, { project: project.name, pipeline: pipeline.name });
  }
  const combined: Project = {
    name: project.name,
    description: project.description,
    pipelines: [...project.pipelines, ...builtins.pipelines],
    models: [...project.models, ...builtins.models],
    pendingModels: [],
    ...(builtins.modelPipelines ? { modelPipelines: builtins.modelPipelines } : {}),
    steps,
    features: [...project.features, ...builtins.features],
    enrichments: { ...builtins.enrichments, ...project.enrichments },
    expectations: [...project.expectations, ...builtins.expectations],
    catalog: [...project.catalog, ...builtins.catalog],
    ...(project.source ? { source: project.source } : {}),
    ...(project.start ? { start: project.start } : {}),
  };
  checkNames(where, combined);
  validateCatalog(combined.pipelines);
  for (const pipeline of combined.pipelines) {
    for (const spec of pipeline.spec.steps) {
      const uses = spec.kind === 'activity' ? spec.uses : spec.kind === 'fanOut' ? spec.each.uses : undefined;
      if (uses !== undefined && !steps.has(uses)) {
        throw new ValidationError(`${where}: pipeline "${pipeline.name}" step "${spec.name}" uses step "${uses}", which no project registers; declare it with defineStep and use it in the pipeline, or list it in steps.`, {
          project: project.name,
          pipeline: pipeline.name,
          step: spec.name,
        });
      }
    }
  }
  return combined;
}
