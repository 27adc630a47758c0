/**
 * What every command gets, and the helpers they share. Only types are imported at the top: the
 * Temporal client, the database layer and the dev server's discovery load when a command uses them,
 * so `steward --help` and commands that need neither start fast.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { Database } from '../db/client.js';
import type { StewardConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Project } from '../project/define.js';

export interface CommandContext {
  config: StewardConfig;
  logger: Logger;
  json: boolean;
  /**
   * Steward's built-ins and the team's project (steward.config.ts from --project, STEWARD_PROJECT or
   * the working directory upward), loaded once, on first use. Loading it also sets
   * `config.taskQueue` to the project's queue, so runs go to the worker that serves the project.
   */
  project(): Promise<Project>;
}

/** Memoizes the project for a context, and fixes the task queue once it is known. */
export function projectLoader(config: StewardConfig, projectPath: string | undefined): () => Promise<Project> {
  let loading: Promise<Project> | undefined;
  return () =>
    (loading ??= (async () => {
      const { loadAppProject, taskQueueFor } = await import('../app/project.js');
      const project = await loadAppProject(projectPath ? { project: projectPath } : {});
      (config as { taskQueue: string }).taskQueue = taskQueueFor(config, project);
      return project;
    })());
}

/**
 * Completes the help of a top-level command (and of its subcommands) with `prepare`, for help texts
 * that name values from a module too heavy to load at start-up (the pipelines, the registry's
 * statuses). It runs when commander dispatches to the command, before it parses its arguments or
 * prints its help, and only when help is going to be printed: `--help`, `-h`, `help`, or the group
 * named with no subcommand. `steward --help` lists top-level commands by name and description only.
 */
export function completeHelp(command: Command, prepare: () => Promise<void>, argv: readonly string[] = process.argv.slice(2)): void {
  command.parent!.hook('preSubcommand', async (_parent, dispatched) => {
    if (dispatched !== command) return;
    const helpAsked = argv.some((arg) => arg === '--help' || arg === '-h' || arg === 'help') || argv.at(-1) === command.name();
    if (helpAsked) await prepare();
  });
}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const printJson = (value: unknown) => out(JSON.stringify(value, null, 2));

/** Runs `fn` with a client of the Temporal the config points at, without starting anything. */
export async function withClient<T>(config: StewardConfig, fn: (client: Client, uiUrl: string | undefined) => Promise<T>): Promise<T> {
  const [{ locateTemporal }, { connectClient }, { configuredTracing }] = await Promise.all([
    import('../platform/dev-server.js'),
    import('../platform/temporal.js'),
    import('../platform/tracing-config.js'),
  ]);
  const temporal = await locateTemporal(config);
  // With tracing configured, a run started here opens the trace its workflow and steps continue.
  const tracing = await configuredTracing(config);
  const client = await connectClient(temporal.address, temporal.namespace, tracing?.clientInterceptors());
  try {
    return await fn(client, temporal.uiUrl);
  } finally {
    await client.connection.close();
    await tracing?.shutdown();
  }
}

/** Runs `fn` with the configured database (PGlite or DATABASE_URL), closing it afterwards. */
export async function withDatabase<T>(ctx: CommandContext, fn: (db: Database) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../db/client.js');
  const handle = await openDatabase({ url: ctx.config.database.url, pgliteDir: ctx.config.database.pgliteDir });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}
