/**
 * The project the repository's root serves (steward.config.ts): Steward's built-ins combined with
 * the flight-delay example, whose pipelines most integration tests run as real fixtures.
 */
import { flightDelayProject } from '../../examples/flight-delay/steward.config.js';
import { builtinProject } from '../../pipelines/index.js';
import { combineProjects } from '../../src/project/define.js';

export const rootProject = combineProjects(builtinProject, flightDelayProject);
export const pipelines = rootProject.pipelines;
