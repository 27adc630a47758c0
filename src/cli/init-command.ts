/**
 * `steward init <dir>`: scaffolds a runnable project into a new or empty folder: package.json
 * depending on this Steward, tsconfig, the declarations (features.ts: a feature view over the bundled
 * sample data; steward.config.ts: its expectations and a model, which Steward's built-in train,
 * release and drift-retrain pipelines run), one step of the project's own, tests and a README.
 * The work is in ./init/scaffold.ts; this is the command.
 */
import path from 'node:path';
import type { Command } from 'commander';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Create a new Steward project (a feature view over sample data, a declared model with its train, release and drift-retrain pipelines, tests) in a new or empty folder.')
    .argument('<dir>', 'the folder to create; it must not exist or be empty')
    .option('--name <project>', "the project's name: lowercase letters, digits and '-' (default: the folder's name)")
    .option('--steward <spec>', 'the dependency on Steward written into package.json, e.g. ^0.1.0 or file:/path/steward-0.1.0.tgz (default: how this Steward was installed)')
    .option('--json', 'print machine-readable JSON on stdout')
    .addHelpText('after', '\nExample:\n  npx steward init rain && cd rain && npm install && npm start')
    .action(async (dir: string, options: { name?: string; steward?: string; json?: boolean }, command: Command) => {
      const json = Boolean(options.json ?? command.optsWithGlobals<{ json?: boolean }>().json);
      const { scaffoldProject } = await import('./init/scaffold.js');
      const result = scaffoldProject({ target: dir, ...(options.name !== undefined ? { name: options.name } : {}), ...(options.steward !== undefined ? { steward: options.steward } : {}) });
      if (json) {
        process.stdout.write(`${JSON.stringify({ project: result.name, dir: result.target, steward: result.steward.spec, files: result.files }, null, 2)}\n`);
        return;
      }
      const shown = path.relative(process.cwd(), result.target) || '.';
      const cd = shown === '.' ? '' : `cd ${/\s/.test(shown) ? JSON.stringify(shown) : shown} && `;
      const lines = [
        `Created project "${result.name}" in ${result.target} (${result.files.length} files).`,
        `  depends on steward ${result.steward.spec}   (from ${result.steward.from}${result.steward.from === '--steward' ? '' : '; choose with --steward <spec>'})`,
        '',
        'Next:',
        `  ${cd}npm install && npm start   # train and register the declared model through Temporal`,
        '  npm test                    # the declarations, then the pipelines end to end through Temporal',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
