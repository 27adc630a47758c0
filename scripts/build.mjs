#!/usr/bin/env node
// Builds dist/: compiles src, workflows, activities and pipelines to ESM JavaScript with .d.ts and
// source maps (tsconfig.build.json), mirroring the tree (dist/src, dist/workflows, ...), then copies
// beside the compiled modules every other file of those folders, which the code loads at run time
// by a path relative to itself (the worker thread entries cpu-pool-entry.mjs and ml/gbt/worker-entry.mjs),
// and the SQL migrations and their meta from drizzle/ to dist/drizzle (src/db/client.ts).
//
// `npm run build` (and `prepare`/`prepack`, so installing from a git URL, a path or a tarball
// works). It skips the work when dist/ is newer than every input (so `npm pack`, which runs both
// prepack and prepare, builds once); `--force` rebuilds anyway. The build goes to dist.building/,
// which then replaces dist/ in two renames: commands running from dist/ meanwhile (they load
// modules lazily) never find it half-written or gone, and a failed build leaves the previous
// one in place. Its dist/.build-stamp carries the time the build started: bin/steward.js runs
// dist/ only while no source is newer than that.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const building = path.join(root, 'dist.building');
const retired = path.join(root, 'dist.old');
const stamp = path.join(dist, '.build-stamp');
/** The folders compiled into dist/ (keep in step with tsconfig.build.json and bin/steward.js). */
const SOURCES = ['src', 'workflows', 'activities', 'pipelines'];
/** Folders copied to dist/ as they are: the database migrations (src/db/client.ts reads dist/drizzle). */
const ASSET_DIRS = ['drizzle'];
/** Other inputs: a change to one of them rebuilds too. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];

/** The first input changed after `since` (ms), or undefined; directories count too (added or removed files). */
function changedSince(since) {
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (fs.statSync(full).mtimeMs > since) return full;
      if (entry.isDirectory()) {
        const found = walk(full);
        if (found) return found;
      }
    }
    return undefined;
  };
  for (const name of [...SOURCES, ...ASSET_DIRS]) {
    const dir = path.join(root, name);
    if (fs.statSync(dir).mtimeMs > since) return dir;
    const found = walk(dir);
    if (found) return found;
  }
  return INPUTS.map((name) => path.join(root, name)).find((file) => fs.existsSync(file) && fs.statSync(file).mtimeMs > since);
}

/** Copies every file of `from` that is not TypeScript to the same place under `to`. */
function copyAssets(from, to) {
  let copied = 0;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copied += copyAssets(source, target);
    else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
      copied++;
    }
  }
  return copied;
}

function build({ force }) {
  if (!fs.existsSync(path.join(root, 'src', 'cli', 'main.ts'))) {
    // An installed package: dist/ came built in the tarball, and there is nothing to compile.
    console.log('steward build: no TypeScript sources here; nothing to build.');
    return;
  }
  if (!force && fs.existsSync(stamp)) {
    const changed = changedSince(fs.statSync(stamp).mtimeMs);
    if (!changed) {
      console.log('steward build: dist/ is up to date (`npm run build -- --force` rebuilds it).');
      return;
    }
  }
  const started = new Date();
  fs.rmSync(building, { recursive: true, force: true });
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('steward build: TypeScript is not installed; run `npm install` (it is a devDependency) and build again.');
  }
  const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', building], { cwd: root, stdio: 'inherit' });
  if (compiled.status !== 0) {
    fs.rmSync(building, { recursive: true, force: true });
    throw new Error(`steward build: tsc failed (exit ${compiled.status ?? compiled.signal}); dist/ is unchanged, and bin/steward.js runs the sources while they are newer.`);
  }
  let assets = 0;
  for (const name of [...SOURCES, ...ASSET_DIRS]) assets += copyAssets(path.join(root, name), path.join(building, name));
  const newStamp = path.join(building, '.build-stamp');
  fs.writeFileSync(newStamp, `${JSON.stringify({ startedAt: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000 })}\n`);
  // The stamp carries the time the build started: a source saved while tsc ran counts as newer.
  fs.utimesSync(newStamp, started, started);
  fs.rmSync(retired, { recursive: true, force: true });
  if (fs.existsSync(dist)) fs.renameSync(dist, retired);
  fs.renameSync(building, dist);
  fs.rmSync(retired, { recursive: true, force: true });
  console.log(`steward build: compiled to dist/ and copied ${assets} run-time files in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s.`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build({ force: process.argv.includes('--force') });
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
