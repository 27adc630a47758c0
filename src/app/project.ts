/**
 * The project a process serves: Steward's built-ins combined with the team's steward.config.ts
 * (found from the working directory upward, or named by --project / STEWARD_PROJECT). The CLI,
 * the worker, the HTTP API and schedules all take it from here, so they agree on what exists.
 */
import { builtinProject } from '../../pipelines/index.js';
import { ConfigError, isStewardError } from '../errors.js';
import { combineProjects, type Project } from '../project/define.js';
import { loadProject } from '../project/load.js';
import type { StewardConfig } from '../platform/config.js';

export interface AppProjectOptions {
  /** A steward.config.ts or the folder holding one (default: search from `cwd` upward; STEWARD_PROJECT). */
  project?: string;
  cwd?: string;
}

/** The combined project; a config that fails to load is a ConfigError naming the file. */
export async function loadAppProject(options: AppProjectOptions = {}): Promise<Project> {
  const project = options.project ?? (process.env.STEWARD_PROJECT?.trim() || undefined);
  const own = await loadProject({ ...(options.cwd ? { cwd: options.cwd } : {}), ...(project ? { project } : {}) });
  try {
    return combineProjects(builtinProject, own);
  } catch (error) {
    // What clashes with the built-ins is the config's to fix: name the file.
    if (!isStewardError(error) || !own?.source) throw error;
    throw new ConfigError(error.message.includes(own.source) ? error.message : `${own.source}: ${error.message}`, { file: own.source, ...error.details });
  }
}

/**
 * The task queue a project's runs go to. Projects that share one Temporal cluster must not take
 * each other's runs: a team's project polls `steward-<name>` unless STEWARD_TASK_QUEUE says
 * otherwise; Steward's built-ins alone keep `steward`.
 */
export function taskQueueFor(config: StewardConfig, project: Project): string {
  if (process.env.STEWARD_TASK_QUEUE?.trim()) return config.taskQueue;
  return project.source ? `steward-${project.name}` : config.taskQueue;
}
