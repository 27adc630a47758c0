/**
 * What a program that runs Steward's commands shares with `steward` (main.ts): the command context
 * built from the global options once a command runs, and how an error ends the process (a message
 * on stderr, or `{"error": ...}` on stdout with --json; exit code 1). The demo of Steward's worked
 * example (under examples/, `npm start`) uses it too, so its demos behave like `steward` commands.
 */
import type { Command } from 'commander';
import { loadConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { isStewardError } from '../errors.js';
import type { Project } from '../project/define.js';
import { projectLoader, type CommandContext } from './context.js';

/** The global options a program may declare; those it does not declare read as absent. */
interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  project?: string;
}

/**
 * The context of `program`'s commands, made on first use (after parsing, so the global options are
 * known) and then shared. The project is the team's (--project, STEWARD_PROJECT or the working
 * folder upward) unless `project` says what the program serves instead.
 */
export function contextFactory(program: Command, project?: () => Promise<Project>): () => CommandContext {
  let made: CommandContext | undefined;
  return () => {
    if (made) return made;
    const options = program.opts<GlobalOptions>();
    const config = loadConfig();
    const logger = createLogger(options.verbose ? 'debug' : config.logLevel);
    made = { config, logger, json: options.json === true, project: project ?? projectLoader(config, options.project) };
    return made;
  };
}

/** Prints `error` the way every command does and exits with code 1. */
export function fail(error: unknown, json: boolean): never {
  if (json) {
    const payload = isStewardError(error)
      ? { code: error.code, message: error.message, details: error.details }
      : { code: 'INTERNAL', message: (error as Error).message };
    process.stdout.write(`${JSON.stringify({ error: payload })}\n`);
  } else {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    // A Steward error's message says what to do; anything else is a bug, and its stack helps.
    if (!isStewardError(error) && (error as Error).stack) process.stderr.write(`${(error as Error).stack}\n`);
  }
  process.exit(1);
}

/** Parses `argv` and runs the command it names; an error it throws ends the process through `fail`. */
export async function runProgram(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    fail(error, program.opts<GlobalOptions>().json === true);
  }
}
