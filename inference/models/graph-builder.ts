import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Element types the project's graphs use (values are ONNX TensorProto.DataType). */
export const DType = { float: 1, uint8: 2, int64: 7 } as const;
export type DType = (typeof DType)[keyof typeof DType];

/** Attribute values: an integer, `{ f }` for a float, an integer list, or a string. */
export type AttrValue = number | { f: number } | number[] | string;

type Dim = number | string;

function attribute(name: string, value: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: A.INT, i: value });
  if (typeof value === 'string')
    return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: A.FLOAT, f: value.f });
}

function valueInfo(name: string, type: DType, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * A small ONNX graph writer: the models are written as code so their weights are reproducible
 * and reviewable, with no download and no Python.
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inits: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  constructor(
    readonly name: string,
    readonly opset = 13,
  ) {}

  input(name: string, type: DType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: DType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A constant tensor (weights, shapes); returns its name. */
  floats(name: string, data: Float32Array | number[], dims: number[]): string {
    const raw = data instanceof Float32Array ? data : Float32Array.from(data);
    this.inits.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: DType.float,
        rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
      }),
    );
    return name;
  }

  ints(name: string, data: number[], dims: number[] = [data.length]): string {
    const raw = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.inits.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: DType.int64,
        rawData: new Uint8Array(raw.buffer),
      }),
    );
    return name;
  }

  /** Adds a node; returns the name of its (first) output. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[]): string {
    const outs = outputs ?? [`${op.toLowerCase()}_${this.counter++}`];
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs,
        output: outs,
        name: `${outs[0]}_node`,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs[0];
  }

  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'spillway',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
