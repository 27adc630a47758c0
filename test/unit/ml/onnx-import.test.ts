import fs from 'node:fs';
import onnxProto from 'onnx-proto';
import { InferenceSession } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { trainLogisticRegression } from '../../../src/ml/linear.js';
import { exportOnnx } from '../../../src/ml/onnx-export.js';
import { importOnnxModel, inspectOnnxModel } from '../../../src/ml/onnx-import.js';
import { onnxScorer } from '../../../src/ml/scoring.js';
import { buildModel, tensorInfo } from '../../support/onnx-builders.js';

const { onnx } = onnxProto;
const { FLOAT, INT64, STRING, COMPLEX64 } = onnx.TensorProto.DataType;

const external = new Uint8Array(fs.readFileSync(new URL('../../fixtures/onnx/external-logreg.onnx', import.meta.url)));
const expected = JSON.parse(fs.readFileSync(new URL('../../fixtures/onnx/external-logreg.expected.json', import.meta.url), 'utf8')) as {
  producer: { name: string; version: string; irVersion: number };
  features: string[];
  rows: number[][];
  probabilities: number[];
};


/** One operator from x to y over float [N,1]. */
function oneNode(opType: string, domain: string, opsets?: { domain: string; version: number }[]): Uint8Array {
  return buildModel({
    nodes: [{ opType, domain, input: ['x'], output: ['y'] }],
    inputs: [tensorInfo('x', FLOAT, ['N', 1])],
    outputs: [tensorInfo('y', FLOAT, ['N', 1])],
    opsets,
  });
}

const NOT_ONNX = "Check that the file is an ONNX model (not a pickle, a .pt checkpoint, a SavedModel or text): export it with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).";
const REEXPORT_OPSET = 'Export it again with a target opset in that range (opset_version in torch.onnx.export, target_opset in skl2onnx and tf2onnx).';

async function refusal(bytes: Uint8Array): Promise<ValidationError> {
  const error = await importOnnxModel(bytes).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('inspecting an ONNX model made outside Steward', () => {
  it('reads the signature the onnx Python helper wrote: inputs, outputs, symbolic dims, opsets, producer', () => {
    expect(inspectOnnxModel(external)).toEqual({
      irVersion: expected.producer.irVersion,
      producerName: 'onnx.helper',
      producerVersion: '1.12.0',
      opsets: [{ domain: '', version: 13 }],
      domains: [''],
      inputs: [{ name: 'X', kind: 'tensor', elementType: 'float32', shape: ['batch', 3] }],
      outputs: [
        { name: 'logit', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
        { name: 'probability', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
      ],
    });
  });

  it('gives a dimension with neither size nor name as -1 and an undeclared shape as null', () => {
    const bytes = buildModel({
      nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }],
      inputs: [tensorInfo('x', FLOAT, [null, 2])],
      outputs: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
    });
    const signature = inspectOnnxModel(bytes);
    expect(signature.inputs[0]!.shape).toEqual([-1, 2]);
    expect(signature.outputs[0]!.shape).toBeNull();
  });
});

describe('importing an ONNX model made outside Steward', () => {
  it('loads it in onnxruntime-node and runs a smoke inference on 8 generated rows', async () => {
    const { signature, smoke } = await importOnnxModel(external);
    expect(signature.inputs.map((i) => i.name)).toEqual(['X']);
    expect(smoke).toEqual({
      rows: 8,
      outputs: [
        { name: 'logit', elementType: 'float32', shape: [8, 1] },
        { name: 'probability', elementType: 'float32', shape: [8, 1] },
      ],
    });
  });

  it('reproduces the probabilities numpy computed for the held-out rows to 1e-6', async () => {
    const session = await InferenceSession.create(external);
    try {
      const score = onnxScorer(session, { output: 'probability', inputs: { kind: 'matrix', input: 'X', features: expected.features } });
      const numeric = Object.fromEntries(expected.features.map((name, j) => [name, Float64Array.from(expected.rows, (row) => row[j]!)]));
      const probabilities = await score({ numeric });
      const maxAbsDiff = expected.probabilities.reduce((m, p, i) => Math.max(m, Math.abs(p - probabilities[i]!)), 0);
      expect(probabilities).toHaveLength(400);
      expect(maxAbsDiff).toBeLessThan(1e-6);
    } finally {
      await session.release();
    }
  });

  it("imports Steward's own export, feeding empty strings to its categorical inputs", async () => {
    const n = 200;
    const distance = Float64Array.from({ length: n }, (_, i) => (i * 37) % 101);
    const carrier = Array.from({ length: n }, (_, i) => ['AA', 'DL', 'UA'][i % 3]!);
    const labels = Array.from({ length: n }, (_, i) => (distance[i]! + (i % 3) * 20 + ((i * 13) % 29) > 70 ? 1 : 0));
    const frame = { numeric: { distance }, categorical: { carrier } };
    const { onnx: bytes } = await exportOnnx(trainLogisticRegression(frame, labels), frame);

    const { signature, smoke } = await importOnnxModel(bytes);
    expect(signature.inputs).toEqual([
      { name: 'distance', kind: 'tensor', elementType: 'float32', shape: ['N', 1] },
      { name: 'carrier', kind: 'tensor', elementType: 'string', shape: ['N', 1] },
    ]);
    expect(signature.domains).toEqual(['', 'ai.onnx.ml']);
    expect(smoke.outputs).toEqual([
      { name: 'label', elementType: 'int64', shape: [8] },
      { name: 'probabilities', elementType: 'float32', shape: [8, 2] },
    ]);
  });

  it('keeps a fixed first dimension and fills other symbolic ones with 1', async () => {
    const bytes = buildModel({
      nodes: [
        { opType: 'Identity', domain: '', input: ['x'], output: ['y'] },
        { opType: 'Identity', domain: '', input: ['ids'], output: ['ids_out'] },
      ],
      inputs: [tensorInfo('x', FLOAT, [4, 'features']), tensorInfo('ids', INT64, ['batch'])],
      outputs: [tensorInfo('y', FLOAT, [4, 'features']), tensorInfo('ids_out', INT64, ['batch'])],
    });
    const { smoke } = await importOnnxModel(bytes, { smokeRows: 3 });
    expect(smoke.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['y', [4, 1]],
      ['ids_out', [3]],
    ]);
  });

  it('accepts an operator from a custom domain when the model defines it as a local function', async () => {
    const bytes = buildModel({
      irVersion: 8,
      opsets: [
        { domain: '', version: 15 },
        { domain: 'example.functions', version: 1 },
      ],
      functions: [
        { name: 'Double', domain: 'example.functions', input: ['a'], output: ['b'], node: [{ opType: 'Add', domain: '', input: ['a', 'a'], output: ['b'] }], opsetImport: [{ domain: '', version: 15 }] },
      ],
      nodes: [{ opType: 'Double', domain: 'example.functions', input: ['x'], output: ['y'] }],
      inputs: [tensorInfo('x', FLOAT, ['N', 1])],
      outputs: [tensorInfo('y', FLOAT, ['N', 1])],
    });
    const { signature, smoke } = await importOnnxModel(bytes);
    expect(signature.domains).toEqual(['', 'example.functions']);
    expect(smoke.outputs).toEqual([{ name: 'y', elementType: 'float32', shape: [8, 1] }]);
  });

  it('lists a ZipMap output by kind and smoke-tests only the tensor outputs, which onnxruntime-node can return', async () => {
    const bytes = buildModel({
      opsets: [
        { domain: '', version: 15 },
        { domain: 'ai.onnx.ml', version: 1 },
      ],
      nodes: [
        { opType: 'Identity', domain: '', input: ['x'], output: ['probabilities'] },
        { opType: 'ZipMap', domain: 'ai.onnx.ml', input: ['x'], output: ['zipped'], attribute: [{ name: 'classlabels_int64s', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 1] }] },
      ],
      inputs: [tensorInfo('x', FLOAT, ['N', 2])],
      outputs: [
        tensorInfo('probabilities', FLOAT, ['N', 2]),
        { name: 'zipped', type: { sequenceType: { elemType: { mapType: { keyType: INT64, valueType: { tensorType: { elemType: FLOAT } } } } } } },
      ],
    });
    const { signature, smoke } = await importOnnxModel(bytes);
    expect(signature.outputs[1]).toEqual({ name: 'zipped', kind: 'sequence', elementType: null, shape: null });
    expect(smoke.outputs).toEqual([{ name: 'probabilities', elementType: 'float32', shape: [8, 2] }]);
  });
});

describe('refusing ONNX models onnxruntime-node cannot serve', () => {
  it('refuses empty bytes', async () => {
    expect((await refusal(new Uint8Array(0))).message).toBe('ONNX model is empty (0 bytes). Check that you gave the exported .onnx file and that the export finished writing it.');
  });

  it('refuses a file cut short', async () => {
    expect(external.length).toBe(345);
    expect((await refusal(external.subarray(0, 172))).message).toBe(
      "ONNX model is truncated or corrupt: a field runs past the end of its 172 bytes. If the file was cut short (an interrupted export, copy or download), export or copy it again; if it is not an ONNX model, export one with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).",
    );
  });

  it('refuses random bytes', async () => {
    let state = 4;
    const random = Uint8Array.from({ length: 256 }, () => (state = (state * 1103515245 + 12345) % 2 ** 31) >>> 23);
    expect((await refusal(random)).message).toBe(`ONNX model is corrupt: its 256 bytes do not parse as an ONNX protobuf (invalid wire type 7 at offset 9). ${NOT_ONNX}`);
  });

  it('refuses a protobuf that holds a model header but no graph', async () => {
    const header = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'exporter' })).finish();
    expect((await refusal(header)).message).toBe(`ONNX model has no graph: its ${header.length} bytes parse as protobuf but hold no ONNX graph. ${NOT_ONNX}`);
  });

  it('names an operator the default domain does not have', async () => {
    const error = await refusal(oneNode('Frobnicate', ''));
    expect(error.message).toBe(
      'onnxruntime-node cannot run operator "Frobnicate": no such operator exists in opset 15 of domain ai.onnx. Check the operator\'s name and the opsets that define it (https://onnx.ai/onnx/operators/), then export again with standard operators.',
    );
    expect(error.details).toMatchObject({ operator: 'Frobnicate', domain: '' });
  });

  it('refuses an opset newer than onnxruntime-node runs', async () => {
    expect((await refusal(oneNode('Identity', '', [{ domain: '', version: 99 }]))).message).toBe(
      `ONNX model imports opset 99 of domain ai.onnx; onnxruntime-node 1.30 runs opsets 7 to 26 of it. ${REEXPORT_OPSET}`,
    );
    expect((await refusal(oneNode('Identity', '', [{ domain: '', version: 27 }]))).message).toBe(
      `ONNX model imports opset 27 of domain ai.onnx; onnxruntime-node 1.30 runs opsets 7 to 26 of it. ${REEXPORT_OPSET}`,
    );
  });

  it('accepts the newest opsets onnxruntime-node runs', async () => {
    const bytes = oneNode('Identity', '', [
      { domain: '', version: 26 },
      { domain: 'ai.onnx.ml', version: 5 },
    ]);
    expect((await importOnnxModel(bytes)).signature.opsets).toEqual([
      { domain: '', version: 26 },
      { domain: 'ai.onnx.ml', version: 5 },
    ]);
  });

  it('refuses an ai.onnx.ml opset newer than 5 and a default opset older than 7', async () => {
    const ml6 = oneNode('Identity', '', [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 6 },
    ]);
    expect((await refusal(ml6)).message).toBe(`ONNX model imports opset 6 of domain ai.onnx.ml; onnxruntime-node 1.30 runs opsets 1 to 5 of it. ${REEXPORT_OPSET}`);
    expect((await refusal(oneNode('Identity', '', [{ domain: '', version: 6 }]))).message).toBe(
      `ONNX model imports opset 6 of domain ai.onnx; onnxruntime-node 1.30 runs opsets 7 to 26 of it. ${REEXPORT_OPSET}`,
    );
  });

  it('refuses an IR version newer than onnxruntime-node loads', async () => {
    const bytes = buildModel({ irVersion: 14, nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }], inputs: [tensorInfo('x', FLOAT, ['N'])], outputs: [tensorInfo('y', FLOAT, ['N'])] });
    expect((await refusal(bytes)).message).toBe(
      'ONNX model has IR version 14; onnxruntime-node 1.30 loads IR versions up to 13. Export it again with an exporter and onnx package that write IR 13 or older.',
    );
  });

  it('names operators from a custom domain', async () => {
    const error = await refusal(
      oneNode('Frobnicate', 'com.example', [
        { domain: '', version: 15 },
        { domain: 'com.example', version: 1 },
      ]),
    );
    expect(error.message).toBe(
      'ONNX model uses operator(s) onnxruntime-node cannot run: "Frobnicate" (domain com.example). Only operators of the default ONNX domain and ai.onnx.ml are supported: export the model without custom or contrib operators.',
    );
  });

  it('refuses an input of an element type onnxruntime-node cannot feed', async () => {
    const bytes = buildModel({
      nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }],
      inputs: [tensorInfo('x', COMPLEX64, ['N', 1])],
      outputs: [tensorInfo('y', COMPLEX64, ['N', 1])],
    });
    expect((await refusal(bytes)).message).toBe(
      'Input "x" has element type complex64, which onnxruntime-node cannot feed from JavaScript. Export the model with a float32, float64, int32, int64, string or bool input (what Steward\'s scorer feeds), casting inside the graph.',
    );
  });

  it('refuses a sequence input', async () => {
    const sequence = { sequenceType: { elemType: { tensorType: { elemType: STRING } } } };
    const bytes = buildModel({
      nodes: [{ opType: 'Identity', domain: '', input: ['xs'], output: ['ys'] }],
      inputs: [{ name: 'xs', type: sequence }],
      outputs: [{ name: 'ys', type: sequence }],
    });
    expect((await refusal(bytes)).message).toBe('Input "xs" is a sequence; onnxruntime-node feeds only tensors. Export the model with tensor inputs (one per feature, or one [N, features] matrix).');
  });

  it('refuses a model whose outputs are all non-tensors', async () => {
    const bytes = buildModel({
      opsets: [
        { domain: '', version: 15 },
        { domain: 'ai.onnx.ml', version: 1 },
      ],
      nodes: [{ opType: 'ZipMap', domain: 'ai.onnx.ml', input: ['x'], output: ['zipped'], attribute: [{ name: 'classlabels_int64s', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 1] }] }],
      inputs: [tensorInfo('x', FLOAT, ['N', 2])],
      outputs: [{ name: 'zipped', type: { sequenceType: { elemType: { mapType: { keyType: INT64, valueType: { tensorType: { elemType: FLOAT } } } } } } }],
    });
    expect((await refusal(bytes)).message).toBe(
      'ONNX model has no tensor output ("zipped" is a sequence); onnxruntime-node returns only tensors. For a scikit-learn classifier converted by skl2onnx, convert it with options={id(model): {\'zipmap\': False}} so the probabilities are a tensor.',
    );
  });

  it('refuses a graph that declares an output shape it does not return', async () => {
    const bytes = buildModel({
      nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }],
      inputs: [tensorInfo('x', FLOAT, ['N', 1])],
      outputs: [tensorInfo('y', FLOAT, ['N', 3])],
    });
    expect((await refusal(bytes)).message).toBe(
      'Output "y" is declared as [N, 3] but smoke inference returned [8, 1]. Callers rely on the declared shape: fix the output\'s shape in the graph, or export the model again.',
    );
  });

  it('names files people mistake for ONNX models, by their first bytes', async () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0x21, 0, 0x33, 0x44]);
    expect((await refusal(zip)).message).toBe(
      'The file is not an ONNX model: its 14 bytes are a zip archive (a PyTorch .pt/.pth checkpoint or a Keras .keras file?). Export the model to ONNX (torch.onnx.export for PyTorch, tf2onnx for Keras) and import the .onnx file.',
    );
    const pickle = Uint8Array.from([0x80, 0x04, 0x95, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0x8c, 0x08]);
    expect((await refusal(pickle)).message).toMatch(/^The file is not an ONNX model: its 13 bytes are a Python pickle \(a model saved with pickle or joblib\?\)\. Convert the model to ONNX/);
    expect((await refusal(new TextEncoder().encode('{"model": "not really"}\n'))).message).toMatch(/^The file is not an ONNX model: its 24 bytes are text\. An ONNX model is binary protobuf/);
  });

  it('refuses a graph with no inputs, and one with no outputs', async () => {
    const constant = { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: FLOAT, dims: [1], floatData: [0.5] } };
    const noInputs = buildModel({ nodes: [{ opType: 'Constant', domain: '', input: [], output: ['y'], attribute: [constant] }], inputs: [], outputs: [tensorInfo('y', FLOAT, [1])] });
    expect((await refusal(noInputs)).message).toBe(
      'ONNX model declares no inputs, so there is nothing to feed it: every graph input is missing or is an initializer (a constant). Export it again with the features as graph inputs.',
    );
    const noOutputs = buildModel({ nodes: [{ opType: 'Identity', domain: '', input: ['x'], output: ['y'] }], inputs: [tensorInfo('x', FLOAT, ['N', 1])], outputs: [] });
    expect((await refusal(noOutputs)).message).toBe('ONNX model declares no outputs, so nothing it computes can be read. Export it again with its predictions as graph outputs.');
  });

  it('refuses weights kept in external data files, which one imported file cannot carry', async () => {
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 15 }],
        graph: {
          name: 'g',
          node: [{ opType: 'Add', domain: '', input: ['x', 'w'], output: ['y'] }],
          initializer: [{ name: 'w', dataType: FLOAT, dims: [1], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'weights.bin' }] }],
          input: [tensorInfo('x', FLOAT, ['N', 1])],
          output: [tensorInfo('y', FLOAT, ['N', 1])],
        },
      }),
    ).finish();
    const error = await refusal(bytes);
    expect(error.message).toBe(
      'ONNX model keeps 1 tensor(s) in external data file(s) ("weights.bin"), which an import of one file cannot carry. Save it as one file (onnx.save_model(model, path, save_as_external_data=False)) and import that.',
    );
    expect(error.details).toEqual({ externalFiles: ['weights.bin'] });
  });

  it('refuses a smoke row count that is not a positive whole number', async () => {
    await expect(importOnnxModel(external, { smokeRows: 0 })).rejects.toThrow('smokeRows must be a whole number of at least 1, got 0.');
  });
});
