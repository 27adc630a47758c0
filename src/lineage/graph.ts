/**
 * Lineage queries over the stored OpenLineage events: the upstream of a dataset or model version
 * (what it was made from, step by step back to raw sources) and the downstream impact of a dataset
 * (every step that read it and everything those steps wrote), as a tree and as Graphviz DOT.
 *
 * Nodes alternate between datasets and jobs (`<pipeline>.<step>`); the runs of one job are grouped
 * into one node. A dataset reached twice is shown once in full and then marked as seen.
 */
import { asc } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { lineageEvents } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { dotString } from '../registry/lineage.js';
import { resolveModelRef } from '../registry/lookup.js';
import { JOB_NAMESPACE } from './openlineage.js';

export type Direction = 'upstream' | 'downstream';

export interface DatasetLineageNode {
  kind: 'dataset' | 'job';
  /** `namespace/name` for a dataset, the job name for a job. */
  id: string;
  label: string;
  /** Runs of a job node (newest last). */
  runs?: string[];
  /** True when this dataset was already expanded elsewhere in the tree. */
  seen?: boolean;
  children: DatasetLineageNode[];
}

export interface DatasetLineage {
  direction: Direction;
  dataset: string;
  root: DatasetLineageNode;
}

interface JobRuns {
  job: string;
  runs: Set<string>;
  inputs: Set<string>;
  outputs: Set<string>;
}

interface Graph {
  datasets: Set<string>;
  /** Dataset -> jobs that wrote it / read it. */
  producers: Map<string, Map<string, JobRuns>>;
  consumers: Map<string, Map<string, JobRuns>>;
  jobs: Map<string, JobRuns>;
}

async function loadGraph(db: Database): Promise<Graph> {
  const rows = await db
    .select({ runId: lineageEvents.runId, job: lineageEvents.jobName, inputs: lineageEvents.inputs, outputs: lineageEvents.outputs })
    .from(lineageEvents)
    .orderBy(asc(lineageEvents.id));
  const graph: Graph = { datasets: new Set(), producers: new Map(), consumers: new Map(), jobs: new Map() };
  const link = (index: Map<string, Map<string, JobRuns>>, dataset: string, job: JobRuns) => {
    if (!index.has(dataset)) index.set(dataset, new Map());
    index.get(dataset)!.set(job.job, job);
  };
  for (const row of rows) {
    let job = graph.jobs.get(row.job);
    if (!job) graph.jobs.set(row.job, (job = { job: row.job, runs: new Set(), inputs: new Set(), outputs: new Set() }));
    job.runs.add(row.runId);
    for (const d of row.inputs) {
      graph.datasets.add(d);
      job.inputs.add(d);
      link(graph.consumers, d, job);
    }
    for (const d of row.outputs) {
      graph.datasets.add(d);
      job.outputs.add(d);
      link(graph.producers, d, job);
    }
  }
  return graph;
}

const nameOf = (key: string) => key.slice(key.indexOf('/') + 1);

/**
 * A dataset as users type it: `namespace/name`, a bare name (`prediction_log`,
 * `feature_view:daily_weather`, `vega:seattle-weather.csv`), or a model version as `model@3`,
 * `model@v3`, `model:model@v3` or `model@<alias>`.
 */
export async function resolveDataset(db: Database, ref: string, graph?: Graph): Promise<string> {
  const g = graph ?? (await loadGraph(db));
  const text = ref.trim();
  if (!text) throw new ValidationError('Name a dataset or a model version, e.g. feature_view:daily_weather or rain-tomorrow@3.');
  if (g.datasets.has(text)) return text;
  const byName = [...g.datasets].filter((d) => nameOf(d) === text);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new ValidationError(`"${text}" names ${byName.length} datasets: ${byName.join(', ')}. Give it as namespace/name.`);
  const model = /^(?:model:)?([a-z][a-z0-9-]*)@(v?\d+|[a-z][a-z0-9_-]*)$/.exec(text);
  if (model) {
    const [, name, selector] = model as unknown as [string, string, string];
    const version = /^v?\d+$/.test(selector) ? Number(selector.replace(/^v/, '')) : (await resolveModelRef(db, `${name}@${selector}`)).version;
    const key = `${JOB_NAMESPACE}/model:${name}@v${version}`;
    if (g.datasets.has(key)) return key;
    throw new NotFoundError(`No lineage was recorded for model ${name} v${version}: no pipeline step has written it since lineage is recorded.`, { model: name, version });
  }
  const similar = [...g.datasets].filter((d) => d.toLowerCase().includes(text.toLowerCase())).slice(0, 5);
  throw new NotFoundError(
    `Unknown dataset "${text}": no pipeline step has read or written it.${similar.length ? ` Did you mean ${similar.join(', ')}?` : ` Run \`steward lineage --list\` for the ${g.datasets.size} known datasets.`}`,
    { dataset: text },
  );
}

export async function listLineageDatasets(db: Database): Promise<string[]> {
  return [...(await loadGraph(db)).datasets].sort();
}

function datasetLabel(key: string): string {
  const name = nameOf(key);
  if (name.startsWith('model:')) return `model version ${name.slice('model:'.length)}`;
  if (name.startsWith('deployment:')) return `deployment ${name.slice('deployment:'.length)}`;
  if (name.startsWith('feature_view:')) return `feature view ${name.slice('feature_view:'.length)}`;
  if (name.startsWith('artifact://')) return `artifact ${name}`;
  return `dataset ${key}`;
}

/**
 * The datasets one hop further through a job. A step that writes datasets it then reads itself
 * (the training set step computes the feature views it joins) is shown as two stages: from its
 * final outputs to those intermediates, from the intermediates to its true inputs.
 */
function nextDatasets(job: JobRuns, from: string, direction: Direction): string[] {
  const [ahead, behind] = direction === 'upstream' ? [job.inputs, job.outputs] : [job.outputs, job.inputs];
  const intermediates = [...ahead].filter((d) => behind.has(d) && d !== from);
  const external = [...ahead].filter((d) => !behind.has(d));
  const fromIntermediate = ahead.has(from) && behind.has(from);
  return (fromIntermediate || intermediates.length === 0 ? external : intermediates).sort();
}

export async function datasetLineage(db: Database, ref: string, direction: Direction): Promise<DatasetLineage> {
  const graph = await loadGraph(db);
  const dataset = await resolveDataset(db, ref, graph);
  const expanded = new Set<string>();
  const visit = (key: string, path: Set<string>): DatasetLineageNode => {
    const node: DatasetLineageNode = { kind: 'dataset', id: key, label: datasetLabel(key), children: [] };
    if (expanded.has(key) || path.has(key)) return { ...node, seen: true, label: `${node.label} (see above)` };
    expanded.add(key);
    const jobs = [...((direction === 'upstream' ? graph.producers : graph.consumers).get(key)?.values() ?? [])].sort((a, b) => a.job.localeCompare(b.job));
    const inner = new Set(path).add(key);
    for (const job of jobs) {
      const next = nextDatasets(job, key, direction);
      node.children.push({
        kind: 'job',
        id: job.job,
        label: `job ${job.job} (${job.runs.size} run${job.runs.size === 1 ? '' : 's'})`,
        runs: [...job.runs],
        children: next.map((d) => visit(d, inner)),
      });
    }
    return node;
  };
  return { direction, dataset, root: visit(dataset, new Set()) };
}

export function renderDatasetLineageText(tree: DatasetLineage): string {
  const lines = [`${tree.root.label}  [${tree.direction}]`];
  const walk = (n: DatasetLineageNode, prefix: string) =>
    n.children.forEach((child, i) => {
      const last = i === n.children.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child.label}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  walk(tree.root, '');
  return lines.join('\n');
}

/** Graphviz DOT with edges in the direction data flowed, whichever way the tree was walked. */
export function renderDatasetLineageDot(tree: DatasetLineage): string {
  const nodes = new Map<string, string>();
  const edges = new Set<string>();
  const idOf = (n: DatasetLineageNode) => dotString(`${n.kind}:${n.id}`);
  const walk = (n: DatasetLineageNode) => {
    if (!nodes.has(idOf(n)) || !n.seen) nodes.set(idOf(n), `  ${idOf(n)} [label=${dotString(n.label.replace(/ \(see above\)$/, ''))}, shape=${n.kind === 'job' ? 'box' : 'ellipse'}];`);
    for (const child of n.children) {
      edges.add(tree.direction === 'upstream' ? `  ${idOf(child)} -> ${idOf(n)};` : `  ${idOf(n)} -> ${idOf(child)};`);
      walk(child);
    }
  };
  walk(tree.root);
  return `digraph lineage {\n  rankdir=LR;\n${[...nodes.values()].join('\n')}\n${[...edges].join('\n')}\n}\n`;
}
