/**
 * Batch scoring as a pipeline step (pipelines/scoring-steps.ts): a registered model version scores
 * a Parquet or Arrow file (a path, a `vega:` dataset or an artifact) in bounded batches through
 * src/serving/batch.ts, the same code as `steward score batch`. The scores go to the artifact store,
 * content-addressed, so a retried or rerun step names the same bytes with the same URI; the cache
 * fingerprint is the resolved version's artifact and the input's content, so a moved alias or a
 * changed file scores again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../src/db/client.js';
import { resolveSource } from '../src/datasets/flights.js';
import { NotFoundError, ValidationError } from '../src/errors.js';
import { factsFromMetadata } from '../src/governance/approvals.js';
import { artifactDataset, modelVersionDataset, rowCountFacets, sourceDataset } from '../src/lineage/datasets.js';
import type { StepLineage } from '../src/lineage/step-events.js';
import type { StepAccess, StepImplementation, StepImplementations } from '../src/pipeline/step-runtime.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';
import { resolveVersion } from '../src/registry/lookup.js';
import { formatOf, scoreFile, type FileFormat } from '../src/serving/batch.js';
import { loadModel } from '../src/serving/loaded-model.js';
import { registrySource } from '../src/serving/model-source.js';

export interface ScoreBatchInput {
  model: string;
  /** A version number or an alias (default `champion`). */
  version?: string;
  /** A Parquet or Arrow file: a path, a `vega:<file>` dataset, or an `artifact://sha256/...` URI. */
  input: string;
  /** Input columns copied beside the score. */
  keep?: string[];
  outputFormat?: 'arrow' | 'parquet';
  batchSize?: number;
}

export interface ScoreBatchOutput {
  /** The scores (and kept columns) as an artifact. */
  uri: string;
  rows: number;
  bytes: number;
  model: string;
  version: number;
  seconds: number;
}

const ARTIFACT = /^artifact:\/\//;
const EXTENSION: Record<FileFormat, string> = { parquet: '.parquet', arrow: '.arrow', 'arrow-stream': '.arrows' };

/** The local file an input names; a missing one is named as given and as resolved. */
function localInput(ref: string): string {
  const file = resolveSource(ref);
  if (!fs.existsSync(file)) throw new NotFoundError(`Input file ${file === ref ? file : `${ref} (${file})`} does not exist.`, { input: ref, file });
  return file;
}

/** An artifact's format from its first bytes (artifacts have no extension). */
function formatOfBytes(uri: string, bytes: Uint8Array): FileFormat {
  const head = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (head.startsWith('PAR1')) return 'parquet';
  if (head === 'ARROW1') return 'arrow';
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff) return 'arrow-stream';
  throw new ValidationError(`Artifact ${uri} is neither Parquet nor Arrow IPC.`, { uri });
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function outputFormatOf(input: ScoreBatchInput): 'arrow' | 'parquet' {
  const format = input.outputFormat ?? 'arrow';
  if (format !== 'arrow' && format !== 'parquet') throw new ValidationError(`outputFormat must be "arrow" or "parquet", got "${String(format)}".`);
  return format;
}

function inputDataset(ref: string) {
  return ARTIFACT.test(ref) ? artifactDataset(ref) : sourceDataset(ref);
}

export function createScoringSteps(db: Database, artifacts: ArtifactStore): StepImplementations {
  const source = registrySource(db, artifacts);

  const scoreBatch: StepImplementation<ScoreBatchInput, ScoreBatchOutput> = {
    async run(input, ctx) {
      const format = outputFormatOf(input);
      const model = await loadModel(source, input.model, input.version ?? 'champion');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-score-'));
      try {
        let file: string;
        let inputFormat: FileFormat;
        if (ARTIFACT.test(input.input)) {
          const bytes = await artifacts.get(input.input);
          inputFormat = formatOfBytes(input.input, bytes);
          file = path.join(dir, `input${EXTENSION[inputFormat]}`);
          fs.writeFileSync(file, bytes);
        } else {
          file = localInput(input.input);
          inputFormat = formatOf(file);
        }
        const output = path.join(dir, `scores${EXTENSION[format]}`);
        const result = await scoreFile(model, {
          input: file,
          output,
          inputFormat,
          outputFormat: format,
          keep: input.keep,
          batchSize: input.batchSize,
          // Thrown here, a cancellation stops the job between batches and removes the partial output.
          onProgress: (rows, total) => {
            ctx.signal.throwIfAborted();
            ctx.heartbeat({ rows, total });
          },
        });
        const artifact = await artifacts.put(fs.readFileSync(output));
        return { uri: artifact.uri, rows: result.rows, bytes: artifact.bytes, model: result.model, version: result.version, seconds: result.seconds };
      } finally {
        model.retire();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },

    async fingerprint(input) {
      const version = await resolveVersion(db, input.model, input.version ?? 'champion');
      const content = ARTIFACT.test(input.input) ? input.input : await sha256OfFile(localInput(input.input));
      return `${version.artifactUri}:${content}`;
    },

    lineage(input, { output }): StepLineage {
      return {
        inputs: [inputDataset(input.input), ...(output ? [modelVersionDataset(output.model, output.version)] : [])],
        outputs: output ? [{ ...artifactDataset(output.uri), outputFacets: rowCountFacets(output.rows, output.bytes) }] : [],
      };
    },

    /** Scores carry what the model learnt: reading them is reading a model trained on pii when it was. */
    async access(input): Promise<StepAccess[]> {
      const version = await resolveVersion(db, input.model, input.version ?? 'champion');
      const pii = factsFromMetadata(version.metadata).piiFeatures.length > 0;
      return [{ permission: 'read', resource: `model:${input.model}`, sensitivity: pii ? 'pii' : 'internal' }];
    },
  };

  return { scoreBatch };
}
