/**
 * Importing ONNX models made outside Steward through both front doors: `steward models import` as a
 * user runs it (the real `steward` binary in a child process, against an embedded PGlite database)
 * and `POST /api/models/:name/versions` through fastify's inject on a real PGlite database. A good
 * file becomes a version with the signature the model declares, once (the same file again is the
 * same version); each bad file is refused with the message the user sees (exit code 1 / a 4xx) and
 * leaves nothing behind: no version, no history, no audit entry, no artifact. No Temporal is needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, like } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import onnxProto from 'onnx-proto';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerModelRoutes } from '../../src/api/models.js';
import { openDatabase, type Database, type DatabaseHandle } from '../../src/db/client.js';
import { auditLog, modelHistory, modelVersions } from '../../src/db/schema.js';
import { createPrincipal, issueToken } from '../../src/governance/identity.js';
import { trainLogisticRegression } from '../../src/ml/linear.js';
import { exportOnnx } from '../../src/ml/onnx-export.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { compileSignature } from '../../src/serving/signature.js';
import { buildModel, tensorInfo } from '../support/onnx-builders.js';
import { runStewardSplit, type CliResult } from '../support/processes.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const { onnx } = onnxProto;
const { FLOAT, INT64, STRING } = onnx.TensorProto.DataType;
const INTS = onnx.AttributeProto.AttributeType.INTS;

const external = new Uint8Array(fs.readFileSync(new URL('../fixtures/onnx/external-logreg.onnx', import.meta.url)));

// ---- ONNX files, good and bad ----------------------------------------------------------------


/** One operator from x to y over float [N,1]. */
const oneNode = (opType: string, domain: string, opsets?: { domain: string; version: number }[]) =>
  buildModel({ nodes: [{ opType, domain, input: ['x'], output: ['y'] }], inputs: [tensorInfo('x', FLOAT, ['N', 1])], outputs: [tensorInfo('y', FLOAT, ['N', 1])], opsets });

const mlOpsets = [
  { domain: '', version: 15 },
  { domain: 'ai.onnx.ml', version: 1 },
];
const zipMap = { opType: 'ZipMap', domain: 'ai.onnx.ml', input: ['x'], output: ['zipped'], attribute: [{ name: 'classlabels_int64s', type: INTS, ints: [0, 1] }] };
const sequenceOfMaps = { sequenceType: { elemType: { mapType: { keyType: INT64, valueType: { tensorType: { elemType: FLOAT } } } } } };

let lcg = 4;
const randomBytes = Uint8Array.from({ length: 256 }, () => (lcg = (lcg * 1103515245 + 12345) % 2 ** 31) >>> 23);

const NOT_ONNX =
  "Check that the file is an ONNX model (not a pickle, a .pt checkpoint, a SavedModel or text): export it with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).";
const REEXPORT_OPSET = 'Export it again with a target opset in that range (opset_version in torch.onnx.export, target_opset in skl2onnx and tf2onnx).';

/** Each bad file and what the user is told after "Cannot import <file>: ". */
const BAD_FILES: Array<{ file: string; bytes: Uint8Array; message: string }> = [
  { file: 'empty.onnx', bytes: new Uint8Array(0), message: 'ONNX model is empty (0 bytes). Check that you gave the exported .onnx file and that the export finished writing it.' },
  {
    file: 'random.onnx',
    bytes: randomBytes,
    message: `ONNX model is corrupt: its 256 bytes do not parse as an ONNX protobuf (invalid wire type 7 at offset 9). ${NOT_ONNX}`,
  },
  {
    file: 'model.pt',
    bytes: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0x21, 0, 0x33, 0x44]),
    message:
      'The file is not an ONNX model: its 14 bytes are a zip archive (a PyTorch .pt/.pth checkpoint or a Keras .keras file?). Export the model to ONNX (torch.onnx.export for PyTorch, tf2onnx for Keras) and import the .onnx file.',
  },
  {
    file: 'model.pkl',
    bytes: Uint8Array.from([0x80, 0x04, 0x95, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0x08]),
    message:
      'The file is not an ONNX model: its 13 bytes are a Python pickle (a model saved with pickle or joblib?). Convert the model to ONNX (skl2onnx for scikit-learn: to_onnx(model, X[:1])) and import the .onnx file.',
  },
  {
    file: 'truncated.onnx',
    bytes: external.subarray(0, 172),
    message:
      "ONNX model is truncated or corrupt: a field runs past the end of its 172 bytes. If the file was cut short (an interrupted export, copy or download), export or copy it again; if it is not an ONNX model, export one with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).",
  },
  {
    file: 'no-graph.onnx',
    bytes: onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'exporter' })).finish(),
    message: `ONNX model has no graph: its 12 bytes parse as protobuf but hold no ONNX graph. ${NOT_ONNX}`,
  },
  {
    file: 'unknown-op.onnx',
    bytes: oneNode('Frobnicate', ''),
    message:
      'onnxruntime-node cannot run operator "Frobnicate": no such operator exists in opset 15 of domain ai.onnx. Check the operator\'s name and the opsets that define it (https://onnx.ai/onnx/operators/), then export again with standard operators.',
  },
  {
    file: 'custom-op.onnx',
    bytes: oneNode('Frobnicate', 'com.example', [
      { domain: '', version: 15 },
      { domain: 'com.example', version: 1 },
    ]),
    message:
      'ONNX model uses operator(s) onnxruntime-node cannot run: "Frobnicate" (domain com.example). Only operators of the default ONNX domain and ai.onnx.ml are supported: export the model without custom or contrib operators.',
  },
  {
    file: 'opset-27.onnx',
    bytes: oneNode('Identity', '', [{ domain: '', version: 27 }]),
    message: `ONNX model imports opset 27 of domain ai.onnx; onnxruntime-node 1.30 runs opsets 7 to 26 of it. ${REEXPORT_OPSET}`,
  },
  {
    file: 'ir-14.onnx',
    bytes: buildModel({ irVersion: 14, nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }], inputs: [tensorInfo('x', FLOAT, ['N'])], outputs: [tensorInfo('y', FLOAT, ['N'])] }),
    message: 'ONNX model has IR version 14; onnxruntime-node 1.30 loads IR versions up to 13. Export it again with an exporter and onnx package that write IR 13 or older.',
  },
  {
    file: 'no-inputs.onnx',
    bytes: buildModel({
      nodes: [{ opType: 'Constant', domain: '', input: [], output: ['y'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: FLOAT, dims: [1], floatData: [0.5] } }] }],
      inputs: [],
      outputs: [tensorInfo('y', FLOAT, [1])],
    }),
    message:
      'ONNX model declares no inputs, so there is nothing to feed it: every graph input is missing or is an initializer (a constant). Export it again with the features as graph inputs.',
  },
  {
    file: 'sequence-input.onnx',
    bytes: buildModel({
      nodes: [{ opType: 'Identity', domain: '', input: ['xs'], output: ['ys'] }],
      inputs: [{ name: 'xs', type: { sequenceType: { elemType: { tensorType: { elemType: STRING } } } } }],
      outputs: [{ name: 'ys', type: { sequenceType: { elemType: { tensorType: { elemType: STRING } } } } }],
    }),
    message: 'Input "xs" is a sequence; onnxruntime-node feeds only tensors. Export the model with tensor inputs (one per feature, or one [N, features] matrix).',
  },
  {
    file: 'zipmap-only.onnx',
    bytes: buildModel({ opsets: mlOpsets, nodes: [zipMap], inputs: [tensorInfo('x', FLOAT, ['N', 2])], outputs: [{ name: 'zipped', type: sequenceOfMaps }] }),
    message:
      "ONNX model has no tensor output (\"zipped\" is a sequence); onnxruntime-node returns only tensors. For a scikit-learn classifier converted by skl2onnx, convert it with options={id(model): {'zipmap': False}} so the probabilities are a tensor.",
  },
  {
    file: 'external-data.onnx',
    bytes: buildModel({
      nodes: [{ opType: 'Add', domain: '', input: ['x', 'w'], output: ['y'] }],
      initializers: [{ name: 'w', dataType: FLOAT, dims: [1], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'weights.bin' }] }],
      inputs: [tensorInfo('x', FLOAT, ['N', 1])],
      outputs: [tensorInfo('y', FLOAT, ['N', 1])],
    }),
    message:
      'ONNX model keeps 1 tensor(s) in external data file(s) ("weights.bin"), which an import of one file cannot carry. Save it as one file (onnx.save_model(model, path, save_as_external_data=False)) and import that.',
  },
  {
    file: 'wrong-shape.onnx',
    bytes: buildModel({ nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }], inputs: [tensorInfo('x', FLOAT, ['N', 1])], outputs: [tensorInfo('y', FLOAT, ['N', 3])] }),
    message:
      'Output "y" is declared as [N, 3] but smoke inference returned [8, 1]. Callers rely on the declared shape: fix the output\'s shape in the graph, or export the model again.',
  },
];

/** A bad file's model name: one per file, so "nothing was written" is checked per file. */
const badName = (file: string) => `bad-${file.replace(/\.[a-z]+$/, '')}`;

/** Every file under the artifact store; an import that is refused must leave it as it was. */
function artifactFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** What a model name left in the database: versions, history events and audit entries. */
async function traces(db: Database, modelName: string) {
  const versions = await db.select().from(modelVersions).where(eq(modelVersions.modelName, modelName));
  const history = await db.select().from(modelHistory).where(eq(modelHistory.modelName, modelName));
  const audit = (await db.select().from(auditLog).where(like(auditLog.subject, 'model:%'))).filter((e) => e.subject.startsWith(`model:${modelName}@`));
  return { versions: versions.length, history: history.length, audit: audit.length };
}

/** A logistic regression with a categorical feature, as Steward exports it. */
async function stewardExport(): Promise<Uint8Array> {
  const n = 200;
  const distance = Float64Array.from({ length: n }, (_, i) => (i * 37) % 101);
  const carrier = Array.from({ length: n }, (_, i) => ['AA', 'DL', 'UA'][i % 3]!);
  const labels = Array.from({ length: n }, (_, i) => (distance[i]! + (i % 3) * 20 + ((i * 13) % 29) > 70 ? 1 : 0));
  const frame = { numeric: { distance }, categorical: { carrier } };
  return (await exportOnnx(trainLogisticRegression(frame, labels), frame)).onnx;
}

// ---- the CLI ----------------------------------------------------------------------------------

// Each command is a fresh Node process compiling TypeScript through tsx: generous limits for busy machines.
describe('steward models import', { timeout: 900_000 }, () => {
  let home: string;
  let files: string;
  let env: NodeJS.ProcessEnv;
  const artifactsDir = () => path.join(home, 'artifacts');

  const steward = (...args: string[]): Promise<CliResult> => runStewardSplit(args, env);

  /** `steward --json ...` that must fail: its JSON error, after checking the exit code. */
  async function jsonError(...args: string[]): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
    const result = await steward('--json', ...args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(1);
    return (JSON.parse(result.stdout) as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
  }

  /** The embedded database, opened in this process only while no CLI runs. */
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      return await fn(handle.db);
    } finally {
      await handle.close();
    }
  }

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-models-import-'));
    files = path.join(home, 'files');
    fs.mkdirSync(files);
    env = { STEWARD_HOME: home, DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
    fs.writeFileSync(path.join(files, 'fraud.onnx'), external);
    for (const bad of BAD_FILES) fs.writeFileSync(path.join(files, bad.file), bad.bytes);
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('registers an external model with the signature it declares, and gives the same version for the same file again', async () => {
    const fraud = path.join(files, 'fraud.onnx');
    const first = await steward('--json', 'models', 'import', fraud, '--name', 'fraud-scorer', '--description', 'Logistic regression from the fraud team.', '--actor', 'ada');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const imported = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(imported).toMatchObject({
      modelName: 'fraud-scorer',
      version: 1,
      status: 'registered',
      created: true,
      bytes: external.length,
      description: 'Logistic regression from the fraud team.',
      signature: {
        inputs: [{ name: 'X', kind: 'tensor', elementType: 'float32', shape: ['batch', 3] }],
        outputs: [
          { name: 'logit', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
          { name: 'probability', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
        ],
        onnx: { irVersion: 8, producerName: 'onnx.helper', producerVersion: '1.12.0', opsets: [{ domain: '', version: 13 }], domains: [''] },
      },
      smoke: { rows: 8, outputs: [{ name: 'logit', elementType: 'float32', shape: [8, 1] }, { name: 'probability', elementType: 'float32', shape: [8, 1] }] },
    });
    expect(imported.artifactUri).toBe(`artifact://sha256/${imported.artifactSha256 as string}`);
    expect(artifactFiles(artifactsDir())).toHaveLength(1);

    // Again, as a person reads it: the same version, nothing written.
    const again = await steward('models', 'import', fraud, '--name', 'fraud-scorer', '--description', 'A different description.');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(`${fraud} is already fraud-scorer v1 (registered); nothing changed.`);
    expect(again.stdout).toContain('  inputs:   X float32 [batch, 3]\n  outputs:  logit float32 [batch, 1], probability float32 [batch, 1]\n');

    await withDb(async (db) => {
      const [version] = await db.select().from(modelVersions).where(eq(modelVersions.modelName, 'fraud-scorer'));
      expect(version).toMatchObject({
        version: 1,
        description: 'Logistic regression from the fraud team.',
        algorithm: 'imported ONNX (onnx.helper 1.12.0)',
        trainingSetUri: 'unrecorded',
        metrics: {},
        runId: `import-${(imported.artifactSha256 as string).slice(0, 12)}`,
      });
      const history = await db.select().from(modelHistory).where(eq(modelHistory.modelName, 'fraud-scorer'));
      expect(history.map((e) => [e.kind, e.version, e.actor, e.reason])).toEqual([['registered', 1, 'ada', `Imported from ${fraud}`]]);
      expect(await traces(db, 'fraud-scorer')).toEqual({ versions: 1, history: 1, audit: 1 });
    });
    expect(artifactFiles(artifactsDir())).toHaveLength(1);
  });

  // One file per stage that can refuse (decoding, the runtime-support check, onnxruntime's load, the
  // smoke inference): each CLI run is a Node process, so the API below goes through every bad file.
  const CLI_BAD_FILES = BAD_FILES.filter((b) => ['empty.onnx', 'model.pkl', 'truncated.onnx', 'unknown-op.onnx', 'no-inputs.onnx', 'wrong-shape.onnx'].includes(b.file));

  it('refuses bad ONNX files with a message naming the fault and what to do, writing nothing', async () => {
    expect(CLI_BAD_FILES).toHaveLength(6);
    const before = artifactFiles(artifactsDir());
    for (const bad of CLI_BAD_FILES) {
      const file = path.join(files, bad.file);
      const error = await jsonError('models', 'import', file, '--name', badName(bad.file));
      expect(error.code, bad.file).toBe('VALIDATION_FAILED');
      expect(error.message, bad.file).toBe(`Cannot import ${file}: ${bad.message}`);
      expect(artifactFiles(artifactsDir()), bad.file).toEqual(before);
    }
    // Without --json, the same message on stderr.
    const plain = await steward('models', 'import', path.join(files, 'empty.onnx'), '--name', 'bad-empty');
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([1, '', `error: Cannot import ${path.join(files, 'empty.onnx')}: ${BAD_FILES[0]!.message}\n`]);

    await withDb(async (db) => {
      for (const bad of CLI_BAD_FILES) expect(await traces(db, badName(bad.file)), bad.file).toEqual({ versions: 0, history: 0, audit: 0 });
    });
  });

  it('refuses a file over the size limit before reading it, a directory, a missing file and a bad model name', async () => {
    const before = artifactFiles(artifactsDir());
    // Sparse: 300 MiB by its size, nothing on disk.
    const huge = path.join(files, 'huge.onnx');
    fs.writeFileSync(huge, external);
    fs.truncateSync(huge, 300 * 1024 * 1024);
    expect(await jsonError('models', 'import', huge, '--name', 'bad-huge')).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: `Cannot import ${huge}: it is 300.0 MiB (314572800 bytes), and Steward imports ONNX models up to 256.0 MiB, since the scorer holds every served model in memory. Make the model smaller (quantize its weights, e.g. with onnxruntime.quantization.quantize_dynamic) or serve it outside Steward.`,
      details: { bytes: 314572800, maxBytes: 268435456 },
    });
    fs.rmSync(huge);

    expect((await jsonError('models', 'import', files, '--name', 'bad-directory')).message).toBe(
      `Cannot import ${files}: it is a directory (a TensorFlow SavedModel?). Give the .onnx file; convert a SavedModel with tf2onnx first.`,
    );
    const missing = path.join(files, 'nope.onnx');
    expect((await jsonError('models', 'import', missing, '--name', 'bad-missing')).message).toBe(`Cannot import ${missing}: there is no such file (looked in ${missing}).`);
    expect((await jsonError('models', 'import', path.join(files, 'fraud.onnx'), '--name', 'Fraud_Scorer')).message).toBe(
      'Model name "Fraud_Scorer" must be lowercase letters, digits and dashes, starting with a letter (at most 63).',
    );
    const noName = await steward('models', 'import', path.join(files, 'fraud.onnx'));
    expect([noName.code, noName.stderr.split('\n')[0]]).toEqual([1, "error: required option '--name <model>' not specified"]);

    expect(artifactFiles(artifactsDir())).toEqual(before);
    await withDb(async (db) => {
      for (const name of ['bad-huge', 'bad-directory', 'bad-missing', 'Fraud_Scorer']) expect(await traces(db, name), name).toEqual({ versions: 0, history: 0, audit: 0 });
    });
  });

  it('imports through the process that holds the embedded database, which serves it to the others', async () => {
    const other = path.join(files, 'other.onnx');
    fs.writeFileSync(other, await stewardExport());
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      // This process owns the database now; the CLI reaches it through the owner's socket.
      const result = await steward('--json', 'models', 'import', other, '--name', 'held');
      expect(result.code, result.stderr).toBe(0);
      // The owner sees the CLI's writes at once, in its own session.
      expect(await traces(handle.db, 'held')).toEqual({ versions: 1, history: 1, audit: 1 });
    } finally {
      await handle.close();
    }
  });
});

// ---- the HTTP API -----------------------------------------------------------------------------

describe('POST /api/models/:name/versions', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let artifactsDir: string;
  let app: FastifyInstance;
  let token: string;
  let ownExport: Uint8Array;
  const db = () => handle.db;

  const post = (name: string, body: Uint8Array | string | object | undefined, headers: Record<string, string> = {}, query = '') =>
    app.inject({
      method: 'POST',
      url: `/api/models/${name}/versions${query}`,
      headers: { authorization: `Bearer ${token}`, ...(body instanceof Uint8Array ? { 'content-type': 'application/octet-stream' } : {}), ...headers },
      ...(body === undefined ? {} : { payload: body instanceof Uint8Array ? Buffer.from(body) : (body as string) }),
    });

  beforeAll(async () => {
    testDb = await createTestDatabase('pglite');
    handle = await testDb.open();
    artifactsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-models-api-artifacts-'));
    await createPrincipal(db(), { name: 'ada', roles: ['engineer'], actor: 'test' });
    token = (await issueToken(db(), { principal: 'ada', actor: 'test' })).token;
    app = Fastify({ logger: false });
    registerModelRoutes(app, { db: db(), artifacts: new LocalArtifactStore(artifactsDir) });
    await app.ready();
    ownExport = await stewardExport();
  });
  afterAll(async () => {
    await app?.close();
    await handle?.close();
    await testDb?.destroy();
    fs.rmSync(artifactsDir, { recursive: true, force: true });
  });

  it("imports Steward's own export with its categorical input, once: 201, then 200 with the same version", async () => {
    const first = await post('delay-import', ownExport, {}, '?description=Exported%20by%20Steward');
    expect(first.statusCode, first.body).toBe(201);
    const created = first.json<Record<string, unknown>>();
    expect(created).toMatchObject({
      modelName: 'delay-import',
      version: 1,
      status: 'registered',
      created: true,
      description: 'Exported by Steward',
      signature: {
        inputs: [
          { name: 'distance', kind: 'tensor', elementType: 'float32', shape: ['N', 1] },
          { name: 'carrier', kind: 'tensor', elementType: 'string', shape: ['N', 1] },
        ],
        outputs: [
          { name: 'label', kind: 'tensor', elementType: 'int64', shape: ['N'] },
          { name: 'probabilities', kind: 'tensor', elementType: 'float32', shape: ['N', 2] },
        ],
      },
    });
    const again = await post('delay-import', ownExport);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, created: false, artifactUri: created.artifactUri, description: 'Exported by Steward' });

    const history = await db().select().from(modelHistory).where(eq(modelHistory.modelName, 'delay-import'));
    expect(history.map((e) => [e.kind, e.actor, e.reason])).toEqual([['registered', 'ada', 'Imported through POST /api/models/delay-import/versions']]);
    expect(await traces(db(), 'delay-import')).toEqual({ versions: 1, history: 1, audit: 1 });
    expect(artifactFiles(artifactsDir)).toHaveLength(1);

    // What the scorer will do with it: its registered signature matches the graph it loads.
    const [version] = await db().select().from(modelVersions).where(eq(modelVersions.modelName, 'delay-import'));
    const session = await InferenceSession.create(ownExport);
    try {
      const serving = compileSignature({ inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata, registered: version!.signature, producer: 'steward' });
      expect(serving.inputs.map((i) => [i.name, i.type])).toEqual([
        ['distance', 'float32'],
        ['carrier', 'string'],
      ]);
      expect(serving.score).toEqual({ output: 'probabilities', column: 1, width: 2 });
    } finally {
      await session.release();
    }
  });

  it('refuses each of the 15 bad ONNX files with a 400 naming the fault and what to do, writing nothing', async () => {
    expect(BAD_FILES).toHaveLength(15);
    const before = artifactFiles(artifactsDir);
    for (const bad of BAD_FILES) {
      const response = await post(badName(bad.file), bad.bytes);
      expect(response.statusCode, `${bad.file}: ${response.body}`).toBe(400);
      expect(response.json<{ error: { code: string; message: string } }>().error, bad.file).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: `Cannot import the uploaded file: ${bad.message}`,
      });
      expect(await traces(db(), badName(bad.file)), bad.file).toEqual({ versions: 0, history: 0, audit: 0 });
      expect(artifactFiles(artifactsDir), bad.file).toEqual(before);
    }
  });

  it('refuses a body over the limit with a 413 before reading it, naming the limit', async () => {
    const before = artifactFiles(artifactsDir);
    // The default limit, from the declared length: nothing that size is sent.
    const declared = await app.inject({
      method: 'POST',
      url: '/api/models/bad-huge/versions',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(300 * 1024 * 1024) },
      payload: Buffer.from(external),
    });
    expect(declared.statusCode).toBe(413);
    expect(declared.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message:
          'The ONNX model is 300.0 MiB (314572800 bytes), and Steward imports ONNX models up to 256.0 MiB, since the scorer holds every served model in memory. Make the model smaller (quantize its weights, e.g. with onnxruntime.quantization.quantize_dynamic) or serve it outside Steward.',
        details: { maxBytes: 268435456, bytes: 314572800 },
      },
    });
    // A lower limit, with a body actually over it.
    const small = Fastify({ logger: false });
    registerModelRoutes(small, { db: db(), artifacts: new LocalArtifactStore(artifactsDir), maxBytes: 1024 });
    try {
      const response = await small.inject({
        method: 'POST',
        url: '/api/models/bad-huge/versions',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(ownExport),
      });
      expect(response.statusCode).toBe(413);
      expect(response.json<{ error: { message: string } }>().error.message).toMatch(/^The ONNX model is [0-9.]+ KiB \(\d+ bytes\), and Steward imports ONNX models up to 1\.0 KiB, since/);
    } finally {
      await small.close();
    }
    expect(await traces(db(), 'bad-huge')).toEqual({ versions: 0, history: 0, audit: 0 });
    expect(artifactFiles(artifactsDir)).toEqual(before);
  });

  it('needs a token (401), a valid model name (400) and an octet-stream body (415, 400), and writes nothing otherwise', async () => {
    const before = artifactFiles(artifactsDir);
    const anonymous = await app.inject({ method: 'POST', url: '/api/models/anon/versions', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(external) });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json<{ error: { code: string } }>().error.code).toBe('UNAUTHENTICATED');
    const forged = await post('anon', external, { authorization: 'Bearer stw_00000000_forged' });
    expect(forged.statusCode).toBe(401);
    const failures = await db().select().from(auditLog).where(eq(auditLog.action, 'auth.failed'));
    expect(failures.map((f) => f.subject)).toEqual(['api:POST /api/models/:name/versions', 'api:POST /api/models/:name/versions']);

    const badName = await post('Fraud_Scorer', external);
    expect([badName.statusCode, badName.json<{ error: { message: string } }>().error.message]).toEqual([
      400,
      'Model name "Fraud_Scorer" must be lowercase letters, digits and dashes, starting with a letter (at most 63).',
    ]);

    const how = "send the .onnx file's bytes as the body with Content-Type: application/octet-stream (curl --data-binary @model.onnx -H 'Content-Type: application/octet-stream' ...).";
    const asJson = await post('wrong-type', { onnx: Buffer.from(external).toString('base64') }, { 'content-type': 'application/json' });
    expect([asJson.statusCode, asJson.json()]).toEqual([
      415,
      { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `The body is application/json, not an ONNX file: ${how}`, details: { contentType: 'application/json' } } },
    ]);
    const unknownType = await post('wrong-type', Buffer.from(external).toString('latin1'), { 'content-type': 'application/x-onnx' });
    expect([unknownType.statusCode, unknownType.json<{ error: { message: string } }>().error.message]).toEqual([415, `The body is application/x-onnx, not an ONNX file: ${how}`]);
    const noBody = await post('wrong-type', undefined);
    expect([noBody.statusCode, noBody.json<{ error: { message: string } }>().error.message]).toEqual([400, `The request has no body: ${how}`]);
    const unknownQuery = await post('wrong-type', external, {}, '?descripton=typo');
    expect([unknownQuery.statusCode, unknownQuery.json<{ error: { message: string } }>().error.message]).toEqual([
      400,
      'Unknown query parameter(s) "descripton"; this route takes only description.',
    ]);

    for (const name of ['anon', 'Fraud_Scorer', 'wrong-type']) expect(await traces(db(), name), name).toEqual({ versions: 0, history: 0, audit: 0 });
    expect(artifactFiles(artifactsDir)).toEqual(before);
  });
});
