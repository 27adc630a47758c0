/**
 * `steward/data`: reading a project's own files and keeping tables as artifacts. CSV files become
 * Arrow tables (types inferred or given); tables go into the artifact store as Arrow IPC files,
 * content-addressed, so a step passes a URI to the next and the step cache keys on it.
 *
 * Arrow objects cross this boundary: apache-arrow is a peer dependency, so the project and Steward
 * share one copy (`import { Table } from 'apache-arrow'` in the project is Steward's Table).
 *
 * @example
 * import { readCsv, putTable, getTable, readTimes } from 'steward/data';
 * const weather = await readCsv('data/seattle-weather.csv');
 * const { uri } = await putTable(ctx.artifacts, weather);   // artifact://sha256/...
 * const again = await getTable(ctx.artifacts, uri);         // verified against its hash
 * const days = readTimes(again.getChild('date')!);          // Float64Array of epoch ms (NaN for null)
 */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import type { Artifact, ArtifactStore } from '../artifacts/index.js';

export { csvToTable, parseCsv, readCsv, type CsvColumnType, type CsvOptions } from './csv.js';
export { readTimes } from '../features/columns.js';
export { sha256File } from '../features/sources.js';
export { vegaDataset } from '../datasets/vega.js';
export { LocalArtifactStore, sha256Hex, type Artifact, type ArtifactStore } from '../artifacts/index.js';

/** Stores a table as an Arrow IPC file in the artifact store; the same rows give the same URI. */
export async function putTable(artifacts: ArtifactStore, table: Table): Promise<Artifact> {
  return artifacts.put(tableToIPC(table, 'file'));
}

/** Reads a table `putTable` stored (its bytes are verified against the URI's hash first). */
export async function getTable(artifacts: ArtifactStore, uri: string): Promise<Table> {
  return tableFromIPC(await artifacts.get(uri));
}
