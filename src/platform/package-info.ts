/**
 * Steward's own package.json, found by walking up from this module: two folders up from
 * src/platform in a checkout, three from dist/src/platform in a build or an installed package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function stewardPackageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const { name, version } = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (typeof name === 'string' && typeof version === 'string') return version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}
