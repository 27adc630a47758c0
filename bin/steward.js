#!/usr/bin/env node
// The `steward` command. It runs the compiled CLI in dist/ (built by `npm run build`, which
// `npm install` runs through `prepare`, and shipped built in the package).
//
// In a checkout (src/cli/main.ts is here) it runs the TypeScript sources through tsx instead when
// dist/ has not been built, or when a source under src, workflows, activities or pipelines is newer
// than the last build (dist/.build-stamp, written by scripts/build.mjs), so developers and the
// tests always run the code they see. The check stats the source tree: a few milliseconds.
// STEWARD_FROM_SOURCE=1 always runs the sources; STEWARD_FROM_SOURCE=0 always runs dist/.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/src/cli/main.js', root);
const sources = new URL('src/cli/main.ts', root);
const stamp = new URL('dist/.build-stamp', root);
/** What the build reads (keep in step with scripts/build.mjs). */
const SOURCE_DIRS = ['src', 'workflows', 'activities', 'pipelines', 'drizzle'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];

function mtime(url) {
  return fs.statSync(url, { throwIfNoEntry: false })?.mtimeMs;
}

/** Whether a file or folder under `dir` changed after `since` (added or removed files change their folder). */
function changedUnder(dir, since) {
  if ((mtime(dir) ?? 0) > since) return true;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const url = new URL(entry.isDirectory() ? `${entry.name}/` : entry.name, dir);
    if (entry.isDirectory() ? changedUnder(url, since) : (mtime(url) ?? 0) > since) return true;
  }
  return false;
}

function runSources() {
  const choice = process.env.STEWARD_FROM_SOURCE;
  const checkout = fs.existsSync(sources);
  if (choice === '1') {
    if (checkout) return true;
    process.stderr.write('STEWARD_FROM_SOURCE=1, but this installation has no TypeScript sources: running the compiled CLI.\n');
    return false;
  }
  if (choice === '0' || !checkout) return false;
  const built = mtime(stamp);
  if (built === undefined) return true;
  return SOURCE_DIRS.some((dir) => changedUnder(new URL(`${dir}/`, root), built)) || INPUT_FILES.some((file) => (mtime(new URL(file, root)) ?? 0) > built);
}

if (runSources()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else if (fs.existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(`steward: ${fileURLToPath(compiled)} is missing: run \`npm run build\` in ${fileURLToPath(root)} (or set STEWARD_FROM_SOURCE=1 in a checkout).\n`);
  process.exit(1);
}
