/**
 * Steward's worked example, run end to end: what `npm start` runs at the root of a Steward checkout
 * (`npm run demo:deploy`, `demo:rollback` and `demo:drift` run its other paths). A commander program
 * like `steward`: the same configuration (STEWARD_* variables), logger, `--json` output, error
 * messages and exit codes (src/cli/program.ts), with the flight-delay example's project
 * (examples/flight-delay/steward.config.ts) and Steward's built-ins, wherever it runs.
 *
 * It imports the platform by relative path, as the example's other modules do for now.
 */
import { Command, Option } from 'commander';
import { contextFactory, runProgram } from '../../../src/cli/program.js';
import { demo, demoDeploy, demoDrift, demoProject, type DriftOptions } from './run.js';

const program = new Command()
  .name('npm start --')
  .description(
    "Steward's worked example: flight delays on real 2001 flights (vega-datasets flights-3m.parquet), run through Temporal " +
      'on the embedded stack: a Temporal dev server (started in the background, or the running one), the embedded ' +
      'PostgreSQL (PGlite) under .steward/, and a worker and the ONNX scorer in this process.',
  )
  .option('--rows <n>', 'how many flights to ingest and train on', '200000')
  .addOption(
    new Option('--deploy', 'the deployment path: sign off a new release, which deploys it as a canary while real flights are replayed through the scorer, and promotes it').conflicts('rollback'),
  )
  .addOption(new Option('--rollback', 'the rollback path: deploy a deliberately broken candidate (inverted scores) and watch the analysis roll it back'))
  .addOption(new Option('--json', 'print machine-readable JSON on stdout').default(false))
  .addOption(new Option('-v, --verbose', 'log debug details to stderr').default(false))
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
What each path does, and how long it takes on a two-core machine once the Temporal CLI is installed
(the first run on a machine builds it with Go: a few minutes more, once):
  npm start                   ingest the flights and summarize delays per airport (flight-delay-summary),
                              check their quality, build point-in-time features, train a logistic
                              regression and gradient-boosted trees, evaluate both as ONNX and register the
                              better (train-flight-delay), then validate it and stop at its governed sign-off
                              (release-flight-delay), printing how to approve. About 75 s on 200,000 flights;
                              run again, every step reuses its cached result: under 10 s.
  npm start -- --rows 5000    the same on fewer flights: about 40 s.
  npm run demo:deploy         make sure a version serves in production (signing off the release \`npm start\`
                              left waiting, or releasing one), then release a new one: signed off by the
                              demo reviewers, deployed as a canary (5% -> 25% -> 100%) while real flights
                              are replayed through the scorer, and promoted. About 95 s after \`npm start\`.
  npm run demo:rollback       deploy a deliberately broken copy of production (every score inverted) as a
                              canary: the first analysis rolls it back and says why. About 15 s.
  npm run demo:drift          replay March to June 2001 week by week through the drift-retrain pipeline:
                              score, monitor, retrain, sign off and deploy challengers, then draw the
                              timeline page. The longest by far: the first champion trains on the ~970,000
                              flights before March and each challenger on every flight before its week (up
                              to 2.8 million), so expect half an hour or more (\`npm start -- drift --help\`).

Every path takes --json, and leaves the Temporal dev server running for the next command (\`npx steward
server stop\` stops it); runs, models and reports stay in .steward/ (STEWARD_HOME), where \`npx steward\`
finds them.`,
  );

/** The commands' context, built as `steward` builds it, serving the example's project with Steward's built-ins. */
const context = contextFactory(program, demoProject);

program.action(async (options: { rows: string; deploy?: boolean; rollback?: boolean }) => {
  const ctx = context();
  if (options.deploy || options.rollback) await demoDeploy(ctx, options.rows, options.rollback ? 'rollback' : 'deploy');
  else await demo(ctx, options.rows);
});

program
  .command('drift')
  .description('Replay 2001 week by week: train on January-February, score each week, monitor, retrain through the sign-off and a canary on the scorer, and draw the timeline.')
  .option('--from <date>', 'first replayed week starts here; the first champion trains on the flights before it', '2001-03-01')
  .option('--until <date>', 'the replay ends here (whole weeks from --from are replayed)', '2001-06-28')
  .option('--train-rows <n>', 'train the first champion on this many of the first flights instead')
  .option('--per-week <n>', 'flights scored per week, spread evenly over it', '2000')
  .option('--cool-down-hours <n>', "the policy's cool-down between retrains", '144')
  .option('--margin <auc>', 'how much better the challenger must be', '0.002')
  .option('--model <name>', 'the model the replay registers', 'flight-delay-replay')
  .option('--out <file>', 'where the timeline page goes (default: <STEWARD_HOME>/drift-replay.html)')
  .addHelpText(
    'after',
    `
Each week's flights are scored by the champion and written to the prediction log with their true delays,
then that week's tick of a paused Schedule is backfilled, so the Schedule starts its drift-retrain run. The
champion and each challenger train on every flight before their week (up to 2.8 million), which makes this
the longest path: expect half an hour or more. Fewer weeks and a smaller first champion are quicker, e.g.
  npm run demo:drift -- --until 2001-04-01 --train-rows 100000`,
  )
  .action(async (options: DriftOptions) => demoDrift(context(), options));

await runProgram(program);
