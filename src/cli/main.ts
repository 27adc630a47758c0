/**
 * The `steward` command: the people's front door to Steward. Every command takes `--json` for
 * scripts; errors go to stderr with a non-zero exit code.
 *
 * Start-up loads commander and the commands' registration only; what a command does (Temporal,
 * the database, the pipelines, the scorer) loads when it runs (see commands.ts).
 */
import { Command, Option } from 'commander';
import { envHelp, envKeys } from '../platform/config.js';
import { registerCommands } from './commands.js';
import { contextFactory, runProgram } from './program.js';

const envList = Object.entries(envKeys)
  .filter(([key]) => key !== 'crashAfterCommit')
  .map(([key, name]) => `  ${name.padEnd(26)} ${envHelp[key as keyof typeof envKeys]}`)
  .join('\n');

const program = new Command()
  .name('steward')
  .description('Durable machine-learning pipelines in TypeScript, run on Temporal.')
  .addOption(new Option('--json', 'print machine-readable JSON on stdout').default(false))
  .addOption(new Option('-v, --verbose', 'log debug details to stderr').default(false))
  .addOption(new Option('--project <path>', "the team's steward.config.ts, or the folder holding it (default: $STEWARD_PROJECT, else the nearest one from the working directory upward)"))
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Getting started:
  steward init rain            scaffold your own project (its \`npm start\` runs \`steward start\`)
  npm start                    at the root of a Steward checkout: run Steward's worked example (in examples/)
  steward dev                  keep the stack up: Temporal dev server, worker and HTTP API, for this folder's project
  steward run train-rain-tomorrow --wait

Environment:
${envList}`,
  );

registerCommands(program, contextFactory(program));

/**
 * `steward help <command>` prints the command's help without dispatching to it, so the help a
 * command completes when it is dispatched to (context.ts#completeHelp) would be missing: run it as
 * `steward <command> --help`, which prints the same help.
 */
function helpAsFlag(argv: string[]): string[] {
  const first = argv.findIndex((arg, i) => i >= 2 && !arg.startsWith('-'));
  if (first === -1 || argv[first] !== 'help' || argv[first + 1] === undefined) return argv;
  return [...argv.slice(0, first), argv[first + 1]!, '--help'];
}

await runProgram(program, helpAsFlag(process.argv));
