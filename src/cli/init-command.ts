/**
 * `steward init <dir>`: scaffolds a runnable project (package.json depending on this Steward,
 * tsconfig, steward.config.ts, a feature view, a training pipeline on bundled sample data, a test,
 * a README) into a new or empty folder. The work is in ./init/scaffold.ts; this is the command.
 */
import path from 'node:path';
import type { Command } from 'commander';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Create a new Steward project (a training pipeline on sample data, a feature view, a test) in a new or empty folder.')
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
        `  ${cd}npm install && npm start   # train and register the sample model through Temporal`,
        '  npm test                    # the steps on a real embedded database',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
