/**
 * Finding and loading a team's `steward.config.ts`: from `--project` / STEWARD_PROJECT (a file or
 * the folder holding one), else from the working directory upward. TypeScript configs load through
 * tsx, so a project needs no build step of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, isStewardError } from '../errors.js';
import { defineProject, type Project, type ProjectDeclaration } from './define.js';

export const CONFIG_FILES = ['steward.config.ts', 'steward.config.mts', 'steward.config.js', 'steward.config.mjs'] as const;

/** The config file in `dir`, if there is one. */
function configIn(dir: string): string | undefined {
  for (const name of CONFIG_FILES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Where the project's config is: the explicit path (which must exist), else the nearest
 * steward.config.* from `cwd` upward, else undefined (Steward's built-ins alone).
 */
export function findProjectFile(options: { cwd?: string; project?: string } = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (options.project) {
    const given = path.resolve(cwd, options.project);
    if (!fs.existsSync(given)) throw new ConfigError(`The project ${given} does not exist. Give --project (or STEWARD_PROJECT) a steward.config.ts or the folder that holds one.`);
    if (fs.statSync(given).isDirectory()) {
      const file = configIn(given);
      if (!file) throw new ConfigError(`The folder ${given} has no ${CONFIG_FILES.join(', ')}. Create one with \`steward init\`, or point --project at the file.`);
      return file;
    }
    return given;
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = configIn(dir);
    if (file) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const isProject = (value: unknown): value is Project => typeof value === 'object' && value !== null && (value as Project).steps instanceof Map && Array.isArray((value as Project).pipelines);

/** Imports a config file and returns its project; every failure is a ConfigError naming the file. */
export async function loadProjectFile(file: string): Promise<Project> {
  let exported: Record<string, unknown>;
  try {
    const url = pathToFileURL(file).href;
    if (/\.m?ts$/.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      exported = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      exported = (await import(url)) as Record<string, unknown>;
    }
  } catch (error) {
    if (isStewardError(error)) {
      // A definition refused while the file ran (a bad pipeline, two steps with one name): say where.
      throw new ConfigError(`${file}: ${error.message}`, { file, ...error.details });
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Could not load the project ${file}: ${message}`, { file });
  }
  let value = (exported.default ?? exported.project) as unknown;
  // A config compiled as CommonJS (no "type": "module" beside it) nests the default export once more.
  if (typeof value === 'object' && value !== null && !('name' in value) && 'default' in value) value = (value as { default: unknown }).default;
  if (value === undefined) throw new ConfigError(`${file} exports no project; end it with \`export default defineProject({ name: '...', pipelines: [...] })\`.`, { file });
  try {
    if (isProject(value)) return { ...value, source: file };
    return defineProject(value as ProjectDeclaration, { source: file });
  } catch (error) {
    if (isStewardError(error)) throw new ConfigError(error.message.includes(file) ? error.message : `${file}: ${error.message}`, { file });
    throw error;
  }
}

/** The team's project, found as `findProjectFile` says, or undefined when there is none. */
export async function loadProject(options: { cwd?: string; project?: string } = {}): Promise<Project | undefined> {
  const file = findProjectFile(options);
  return file ? loadProjectFile(file) : undefined;
}
