/**
 * Lineage from recorded data only: a model version names its workflow (`run_id`) and artifact; the
 * experiment run with that workflow id that produced the artifact records its training set and the
 * ingestion it was built from; the ingestion records its source. Walking back explains a model;
 * walking forward from a source or an ingestion finds every model version it reached.
 */
import { asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { experimentRuns, ingestions, modelVersions, type ExperimentRun, type Ingestion, type ModelVersion } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import { resolveModelRef } from './lookup.js';

export type LineageKind = 'model_version' | 'run' | 'training_set' | 'ingestion' | 'dataset';

export interface LineageNode {
  kind: LineageKind;
  id: string;
  label: string;
  children: LineageNode[];
}

export interface LineageTree {
  /** `upstream`: the root is a model and children are what it came from; `downstream`: the reverse. */
  direction: 'upstream' | 'downstream';
  root: LineageNode;
}

const node = (kind: LineageKind, id: string, label: string, children: LineageNode[] = []): LineageNode => ({ kind, id, label, children });

const versionNode = (v: ModelVersion, children: LineageNode[] = []) =>
  node('model_version', `${v.modelName}@${v.version}`, `model ${v.modelName} v${v.version} [${v.status}${v.algorithm ? `, ${v.algorithm}` : ''}]`, children);

function runNode(run: ExperimentRun, children: LineageNode[] = []): LineageNode {
  const code = run.gitCommit ? `, commit ${run.gitCommit.slice(0, 12)}${run.gitDirty ? ' (dirty)' : ''}` : '';
  return node('run', run.id, `run ${run.id} [${run.status}] experiment ${run.experiment}, workflow ${run.workflowId ?? 'none'}${code}`, children);
}

const trainingSetNode = (uri: string, children: LineageNode[] = []) => node('training_set', uri, `training set ${uri}`, children);

const ingestionNode = (i: Ingestion, children: LineageNode[] = []) =>
  node('ingestion', i.id, `ingestion ${i.id} [${i.rows} rows, content ${i.contentHash}]`, children);

const datasetNode = (source: string, children: LineageNode[] = []) => node('dataset', source, `dataset ${source}`, children);

/**
 * The run that produced this version's artifact. Artifacts are content-addressed, so a later run
 * that trained the identical model (and got the existing version back from the idempotent
 * registration) is lineage too; the run of the registering workflow is preferred when recorded.
 */
async function producingRun(db: Database, version: ModelVersion): Promise<ExperimentRun | undefined> {
  const [run] = await db
    .select()
    .from(experimentRuns)
    .where(sql`${experimentRuns.artifacts} @> ${JSON.stringify([version.artifactUri])}::jsonb`)
    .orderBy(sql`${experimentRuns.workflowId} = ${version.runId} desc`, asc(experimentRuns.startedAt))
    .limit(1);
  return run;
}

/** Version -> run -> training set -> ingestion -> dataset, for `<model>@<version|alias>`. */
export async function modelLineage(db: Database, ref: string): Promise<LineageTree> {
  const version = await resolveModelRef(db, ref);
  const run = await producingRun(db, version);
  if (!run) {
    const unrecorded = node('ingestion', 'unrecorded', 'ingestion not recorded (no experiment run produced this artifact)');
    return { direction: 'upstream', root: versionNode(version, [trainingSetNode(version.trainingSetUri, [unrecorded])]) };
  }
  let dataChildren: LineageNode[] = [];
  if (run.ingestionId) {
    const [ingestion] = await db.select().from(ingestions).where(eq(ingestions.id, run.ingestionId));
    dataChildren = [
      ingestion
        ? ingestionNode(ingestion, [datasetNode(ingestion.source)])
        : node('ingestion', run.ingestionId, `ingestion ${run.ingestionId} (recorded by the run, no longer in the database)`),
    ];
  }
  const trainingSet = trainingSetNode(run.trainingSetUri ?? version.trainingSetUri, dataChildren);
  return { direction: 'upstream', root: versionNode(version, [runNode(run, [trainingSet])]) };
}

/**
 * Impact analysis: every model version trained on data from `from`, a dataset source as its
 * ingestion recorded it (e.g. `vega:seattle-weather.csv`) or an ingestion id. The root is the dataset.
 */
export async function downstreamLineage(db: Database, from: string): Promise<LineageTree> {
  const matched = await db
    .select()
    .from(ingestions)
    .where(or(eq(ingestions.id, from), eq(ingestions.source, from)))
    .orderBy(asc(ingestions.createdAt), asc(ingestions.id));
  if (matched.length === 0) throw new NotFoundError(`No ingestion has id or source "${from}".`, { from });
  // An id names one ingestion, so one source; only when nothing has that id is `from` a source.
  const byId = matched.filter((i) => i.id === from);
  const chosen = byId.length ? byId : matched;
  const runs = await db
    .select()
    .from(experimentRuns)
    .where(
      inArray(
        experimentRuns.ingestionId,
        chosen.map((i) => i.id),
      ),
    )
    .orderBy(asc(experimentRuns.startedAt), asc(experimentRuns.id));
  // A run leads to every version whose (content-addressed) artifact it produced.
  const artifactUris = [...new Set(runs.flatMap((r) => r.artifacts))];
  const versions = artifactUris.length
    ? await db.select().from(modelVersions).where(inArray(modelVersions.artifactUri, artifactUris)).orderBy(asc(modelVersions.modelName), asc(modelVersions.version))
    : [];

  const runTree = (run: ExperimentRun) =>
    runNode(
      run,
      versions.filter((v) => run.artifacts.includes(v.artifactUri)).map((v) => versionNode(v)),
    );
  const ingestionTree = (ingestion: Ingestion) => {
    const own = runs.filter((r) => r.ingestionId === ingestion.id);
    const trainingSets = [...new Set(own.map((r) => r.trainingSetUri ?? 'unrecorded'))];
    return ingestionNode(
      ingestion,
      trainingSets.map((uri) => trainingSetNode(uri, own.filter((r) => (r.trainingSetUri ?? 'unrecorded') === uri).map(runTree))),
    );
  };
  return { direction: 'downstream', root: datasetNode(chosen[0]!.source, chosen.map(ingestionTree)) };
}

/** Model versions anywhere in the tree, for a one-line impact summary. */
export function modelVersionsIn(tree: LineageTree): string[] {
  const found: string[] = [];
  const visit = (n: LineageNode) => {
    if (n.kind === 'model_version') found.push(n.id);
    n.children.forEach(visit);
  };
  visit(tree.root);
  return [...new Set(found)];
}

export function renderLineageText(tree: LineageTree): string {
  const lines = [tree.root.label];
  const visit = (n: LineageNode, prefix: string) => {
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child.label}`);
      visit(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  visit(tree.root, '');
  return lines.join('\n');
}

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as DOT's `\n`. */
export function dotString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll(/\r?\n/g, '\\n')}"`;
}

/** Graphviz DOT with edges in the direction data flowed (dataset -> ... -> model), whichever way the tree was walked. */
export function renderLineageDot(tree: LineageTree): string {
  const nodes = new Map<string, string>();
  const edges = new Set<string>();
  const idOf = (n: LineageNode) => dotString(`${n.kind}:${n.id}`);
  const visit = (n: LineageNode) => {
    nodes.set(idOf(n), `  ${idOf(n)} [label=${dotString(n.label)}];`);
    for (const child of n.children) {
      const [from, to] = tree.direction === 'upstream' ? [child, n] : [n, child];
      edges.add(`  ${idOf(from)} -> ${idOf(to)};`);
      visit(child);
    }
  };
  visit(tree.root);
  return ['digraph lineage {', '  rankdir=LR;', '  node [shape=box];', ...nodes.values(), ...edges, '}'].join('\n') + '\n';
}
