/**
 * Writes ONNX models for the tests and the bench, so no model is ever downloaded. The subset of
 * onnx.proto (proto3, IR version 8) needed to describe a graph is declared here and encoded with
 * protobufjs; `GraphBuilder` adds nodes, constants and inputs/outputs with readable names.
 */
import protobuf from 'protobufjs';
import { mulberry32 } from '../../src/core/prng';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  AttributeType type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

export const FLOAT = 1;
export const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export type Dim = number | string;
export type AttrValue = number | number[] | { floats: number[] } | { ints: number[] };

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, i: v, type: ATTR.INT } : { name, f: v, type: ATTR.FLOAT };
  if (Array.isArray(v)) return { name, ints: v, type: ATTR.INTS };
  if ('floats' in v) return { name, floats: v.floats, type: ATTR.FLOATS };
  return { name, ints: v.ints, type: ATTR.INTS };
}

function valueInfo(name: string, shape: Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Builds one graph. Names are returned so nodes chain: `const y = g.op('Relu', [x])`. */
export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private n = 0;

  input(name: string, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  output(name: string, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, shape));
  }

  /** A float32 constant (initializer). */
  floats(values: ArrayLike<number>, dims: number[], name = `c${this.n++}`): string {
    const data = Float32Array.from(values as ArrayLike<number>);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`constant ${name}: ${data.length} values for dims ${dims.join('×')}`);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** An int64 constant (shapes, slice bounds). */
  ints(values: number[], name = `i${this.n++}`): string {
    this.initializers.push({ name, dims: [values.length], data_type: INT64, int64_data: values });
    return name;
  }

  /** Adds a node; returns its (first) output name, or `out` when given. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? `${opType.toLowerCase()}${this.n++}`;
    this.nodes.push({
      op_type: opType,
      name: `${opType}_${this.n++}`,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** The serialised ModelProto (opset 13, IR version 8). */
  encode(name = 'test-graph', opset = 13): Uint8Array {
    const msg = ModelProto.fromObject({
      ir_version: 8,
      producer_name: 'medimgshr-tests',
      producer_version: '1',
      opset_import: [{ domain: '', version: opset }],
      graph: { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return ModelProto.encode(msg).finish();
  }
}

/** Deterministic pseudo-random numbers for weights (the project's one mulberry32). */
export const seededRandom = mulberry32;

export interface ProbeModelOptions {
  /** Input edge (square), default 32. */
  size?: number;
  channels?: 1 | 3;
  /** The region whose mean drives label A: rows/cols [r0, r1) × [c0, c1) in input pixels. */
  region?: { r0: number; r1: number; c0: number; c1: number };
  /** Label A = sigmoid(k · (regionMean − c)). */
  k?: number;
  c?: number;
  /** Heat map = AveragePool(input, pool × pool) of channel 0; 0 = no heat map output. */
  pool?: number;
  inputName?: string;
}

/**
 * A "probe" model whose outputs are known functions of its input x (N×C×S×S):
 *   probabilities[0] = sigmoid(k · (mean of x over the region, all channels − c))   (label A)
 *   probabilities[1] = mean of x over the whole image                                 (label B)
 *   heatmap          = AveragePool(x[:, 0:1], pool)  (1×1×S/pool×S/pool)
 */
export function probeModel(o: ProbeModelOptions = {}): Uint8Array {
  const S = o.size ?? 32;
  const C = o.channels ?? 1;
  const region = o.region ?? { r0: 8, r1: 16, c0: 8, c1: 16 };
  const k = o.k ?? 4;
  const c = o.c ?? 0.5;
  const pool = o.pool ?? 4;
  const g = new GraphBuilder();
  const x = g.input(o.inputName ?? 'image', [1, C, S, S]);
  const crop = g.op('Slice', [x, g.ints([region.r0, region.c0]), g.ints([region.r1, region.c1]), g.ints([2, 3])]);
  const regionMean = g.op('ReduceMean', [crop], { axes: [1, 2, 3], keepdims: 1 });
  const shifted = g.op('Mul', [g.op('Sub', [regionMean, g.floats([c], [1])]), g.floats([k], [1])]);
  const a = g.op('Reshape', [g.op('Sigmoid', [shifted]), g.ints([1, 1])]);
  const b = g.op('Reshape', [g.op('ReduceMean', [x], { axes: [1, 2, 3], keepdims: 1 }), g.ints([1, 1])]);
  g.op('Concat', [a, b], { axis: 1 }, 'probabilities');
  g.output('probabilities', [1, 2]);
  if (pool > 0) {
    const first = C === 1 ? x : g.op('Slice', [x, g.ints([0]), g.ints([1]), g.ints([1])]);
    g.op('AveragePool', [first], { kernel_shape: [pool, pool], strides: [pool, pool] }, 'heatmap');
    g.output('heatmap', [1, 1, S / pool, S / pool]);
  }
  return g.encode('probe');
}

/**
 * A ResNet-18-like classifier with random weights (conv/batch-norm/ReLU/max-pool, four stages of
 * two basic blocks with 64-128-256-512 channels, global average pool, Gemm), input 1×C×S×S,
 * output `logits` 1×labels. About 11.7 M parameters and 1.8 GFLOPs at 224², like ResNet-18.
 */
export function resnet18Like(o: { size?: number; channels?: number; labels?: number; seed?: number; inputName?: string } = {}): Uint8Array {
  const S = o.size ?? 224;
  const C = o.channels ?? 3;
  const labels = o.labels ?? 14;
  const rnd = seededRandom(o.seed ?? 18);
  const g = new GraphBuilder();
  const normal = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rnd() + rnd() + rnd() - 1.5) * 2 * scale;
    return a;
  };
  const conv = (x: string, cin: number, cout: number, k: number, stride: number): string => {
    const w = g.floats(normal(cout * cin * k * k, Math.sqrt(2 / (cin * k * k))), [cout, cin, k, k]);
    const y = g.op('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [(k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1, (k - 1) >> 1] });
    const scale = g.floats(Array.from({ length: cout }, () => 0.5 + rnd() * 0.5), [cout]);
    const bias = g.floats(normal(cout, 0.05), [cout]);
    const mean = g.floats(normal(cout, 0.05), [cout]);
    const variance = g.floats(Array.from({ length: cout }, () => 0.8 + rnd() * 0.4), [cout]);
    return g.op('BatchNormalization', [y, scale, bias, mean, variance], { epsilon: 1e-5 });
  };
  const block = (x: string, cin: number, cout: number, stride: number): string => {
    const y = conv(g.op('Relu', [conv(x, cin, cout, 3, stride)]), cout, cout, 3, 1);
    const skip = stride !== 1 || cin !== cout ? conv(x, cin, cout, 1, stride) : x;
    return g.op('Relu', [g.op('Add', [y, skip])]);
  };
  const x = g.input(o.inputName ?? 'input', [1, C, S, S]);
  let h = g.op('Relu', [conv(x, C, 64, 7, 2)]);
  h = g.op('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  for (const [cout, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    h = block(h, cin, cout, stride);
    h = block(h, cout, cout, 1);
    cin = cout;
  }
  h = g.op('Flatten', [g.op('GlobalAveragePool', [h])], { axis: 1 });
  const w = g.floats(normal(labels * 512, Math.sqrt(1 / 512)), [labels, 512]);
  const b = g.floats(new Float32Array(labels), [labels]);
  g.op('Gemm', [h, w, b], { transB: 1 }, 'logits');
  g.output('logits', [1, labels]);
  return g.encode('resnet18-like');
}
