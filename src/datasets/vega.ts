/**
 * Real data that nobody here made: the files the vega-datasets npm package ships.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { NotFoundError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Absolute path of a file in vega-datasets' data folder, e.g. `vegaDataset('seattle-weather.csv')`. */
export function vegaDataset(file: string): string {
  // The package exports only its JS entry; its data folder sits beside build/.
  const entry = require.resolve('vega-datasets');
  const full = path.join(path.dirname(entry), '..', 'data', file);
  if (!fs.existsSync(full)) {
    throw new NotFoundError(`vega-datasets has no file ${file}. Run \`npm install\` to restore node_modules.`, { file });
  }
  return full;
}
