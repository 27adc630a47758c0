/**
 * Batch scoring as a pipeline step (a project's batch-scoring pipeline): a registered model version scores
 * a Parquet or Arrow file (a path, a `vega:` dataset or an artifact) in bounded batches through
 * src/serving/batch.ts, the same code as `steward score batch`. The scores go to the artifact store,
 * content-addressed, so a retried or rerun step names the same bytes with the same URI. Cached: the
 * fingerprint is the resolved version's artifact and the input's content, so a moved alias or a
 * changed file scores again, and a rerun on the same file and version reuses the stored scores.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { resolveFilePath } from '../../src/features/files.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { factsFromMetadata } from '../../src/governance/approvals.js';
import { artifactDataset, modelVersionDataset, rowCountFacets, sourceDataset } from '../../src/lineage/datasets.js';
import { defineStep } from '../../src/pipeline/step.js';
import { resolveVersion } from '../../src/registry/lookup.js';
import { formatOf, scoreFile, type FileFormat } from '../../src/serving/batch.js';
import { loadModel } from '../../src/serving/loaded-model.js';
import { registrySource } from '../../src/serving/model-source.js';

const ARTIFACT = /^artifact:\/\//;
const EXTENSION: Record<FileFormat, string> = { parquet: '.parquet', arrow: '.arrow', 'arrow-stream': '.arrows' };

/** The local file an input names; a missing one is named as given and as resolved. */
function localInput(ref: string): string {
  const file = resolveFilePath(ref);
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

function inputDataset(ref: string) {
  return ARTIFACT.test(ref) ? artifactDataset(ref) : sourceDataset(ref);
}

export const scoreBatch = defineStep({
  name: 'scoreBatch',
  version: '1',
  description: 'Score a Parquet or Arrow file with a registered model version, in bounded batches, into an artifact',
  input: z.object({
    model: z.string().min(1),
    /** A version number or an alias (default `champion`). */
    version: z.string().min(1).optional(),
    /** A Parquet or Arrow file: a path, a `vega:<file>` dataset, or an `artifact://sha256/...` URI. */
    input: z.string().min(1),
    /** Input columns copied beside the score. */
    keep: z.array(z.string()).optional(),
    outputFormat: z.enum(['arrow', 'parquet']).optional(),
    batchSize: z.number().int().positive().optional(),
  }),
  output: z.object({
    /** The scores (and kept columns) as an artifact. */
    uri: z.string(),
    rows: z.number().int(),
    bytes: z.number().int(),
    model: z.string(),
    version: z.number().int(),
    seconds: z.number(),
  }),
  startToCloseTimeout: '2 hours',
  // runStep heartbeats every second; a parse of one large row group may hold the event loop a while.
  heartbeatTimeout: '1 minute',
  async run(input, ctx) {
    const format = input.outputFormat ?? 'arrow';
    const model = await loadModel(registrySource(ctx.db, ctx.artifacts), input.model, input.version ?? 'champion');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-score-'));
    try {
      let file: string;
      let inputFormat: FileFormat;
      if (ARTIFACT.test(input.input)) {
        const bytes = await ctx.artifacts.get(input.input);
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
          ctx.progress({ rows, total });
        },
      });
      const artifact = await ctx.artifacts.put(fs.readFileSync(output));
      return { uri: artifact.uri, rows: result.rows, bytes: artifact.bytes, model: result.model, version: result.version, seconds: result.seconds };
    } finally {
      model.retire();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  // The alias may have moved since the last run: the version it resolves to now is part of the key.
  async fingerprint(input, services) {
    const version = await resolveVersion(services.db, input.model, input.version ?? 'champion');
    const content = ARTIFACT.test(input.input) ? input.input : await sha256OfFile(localInput(input.input));
    return `${version.artifactUri}:${content}`;
  },
  lineage(input, { output }) {
    return {
      inputs: [inputDataset(input.input), ...(output ? [modelVersionDataset(output.model, output.version)] : [])],
      outputs: output ? [{ ...artifactDataset(output.uri), outputFacets: rowCountFacets(output.rows, output.bytes) }] : [],
    };
  },
  /** Scores carry what the model learnt: reading them is reading a model trained on pii when it was. */
  async access(input, services) {
    const version = await resolveVersion(services.db, input.model, input.version ?? 'champion');
    const pii = factsFromMetadata(version.metadata).piiFeatures.length > 0;
    return [{ permission: 'read', resource: `model:${input.model}`, sensitivity: pii ? 'pii' : 'internal' }];
  },
});
