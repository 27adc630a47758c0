// Steward's built-in project: the generic pipelines and steps every project gets. A project's
// steward.config.ts adds its own beside them (src/app/project.ts); its declared models become their
// train, release and drift-retrain pipelines here (pipelines/models.ts).
import type { Pipeline } from '../src/pipeline/definition.js';
import { validateCatalog } from '../src/pipeline/catalog.js';
import { defineProject } from '../src/project/define.js';
import { approvePurpose } from './approve-purpose.js';
import { modelPipelines } from './models.js';
import { builtinSteps } from './steps/index.js';

export const pipelines: readonly Pipeline[] = [approvePurpose];

validateCatalog(pipelines);

export const builtinProject = defineProject({
  name: 'steward',
  description: "Steward's built-in pipelines and steps: purpose approval, and each declared model's train, release and drift-retrain pipelines",
  pipelines,
  // Registered even when no built-in pipeline uses them, for teams' pipelines to.
  steps: builtinSteps,
  modelPipelines: (model, project) => modelPipelines(model, project),
});
