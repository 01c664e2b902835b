// Reductions: sum and mean over many dimension sets (one block, separate blocks, size-1 and
// empty dimensions, keepDim), float64 accumulation, max with ties and NaN, and the errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sum, mean, max } from "../../src/ops/reduce";
import { Tensor, fromArray, full } from "../../src";
import { gradCheck } from "./gradcheck";

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** float64 reference: reduce `shape` over `dims` (normalised) with `combine`, row-major output. */
function refReduce(shape: number[], dims: number[], kind: "sum" | "mean" | "max") {
  const reduced = shape.map((_, i) => dims.includes(i));
  const outShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const count = numel(shape.filter((_, i) => reduced[i]));
  return (x: Float64Array): Float64Array => {
    const out = new Float64Array(numel(outShape)).fill(kind === "max" ? -Infinity : 0);
    for (let k = 0; k < x.length; k++) {
      let rest = k;
      let o = 0;
      let mul = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        const ix = rest % shape[d];
        rest = Math.floor(rest / shape[d]);
        if (!reduced[d]) o += ix * mul;
        mul *= outShape[d];
      }
      out[o] = kind === "max" ? Math.max(out[o], x[k]) : out[o] + x[k];
    }
    if (kind === "mean") for (let i = 0; i < out.length; i++) out[i] /= count;
    return out;
  };
}

function norm(dims: number | number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  return (typeof dims === "number" ? [dims] : dims).map((d) => (d < 0 ? d + ndim : d));
}

function expectedShape(shape: number[], dims: number[], keepDim: boolean): number[] {
  return keepDim ? shape.map((d, i) => (dims.includes(i) ? 1 : d)) : shape.filter((_, i) => !dims.includes(i));
}

const cases: [number[], number | number[] | undefined][] = [
  [[2, 3, 4], undefined],
  [[2, 3, 4], 0],
  [[2, 3, 4], 1],
  [[2, 3, 4], 2],
  [[2, 3, 4], -1],
  [[2, 3, 4], [0, 1]],
  [[2, 3, 4], [1, 2]],
  [[2, 3, 4], [0, 2]], // two separate reduced blocks: the general path
  [[2, 3, 4], [-1, 0, 1]],
  [[2, 3, 4], []],
  [[2, 1, 3], [0, 2]], // a size-1 dimension between reduced ones merges them into one block
  [[3, 1, 2, 5], [0, 2]],
  [[2, 3, 2, 2], [1, 3]],
  [[2, 3, 2, 4], [0, 2]], // separate reduced blocks with a kept innermost dimension
  [[2, 2, 3, 2, 2], [1, 3]],
  [[1, 7], 0],
  [[7, 1], -1],
  [[5], 0],
  [[1], undefined],
  [[], undefined],
];

for (const fn of ["sum", "mean"] as const) {
  const op = fn === "sum" ? sum : mean;
  test(`${fn}: forward, shapes and gradients over many dimension sets, with and without keepDim`, () => {
    cases.forEach(([shape, dims], i) => {
      const nd = norm(dims, shape.length);
      for (const keepDim of [false, true]) {
        const y = op(fromArray(new Float32Array(numel(shape)).fill(1), { shape }), dims, { keepDim });
        assert.deepEqual([...y.shape], expectedShape(shape, nd, keepDim), `${fn} ${JSON.stringify(shape)} dims ${JSON.stringify(dims)} keepDim ${keepDim}`);
        gradCheck({
          name: `${fn} ${JSON.stringify(shape)} dims ${JSON.stringify(dims)} keepDim ${keepDim}`,
          inputs: [{ shape }],
          ours: (x) => op(x, dims, { keepDim }),
          reference: refReduce(shape, nd, fn),
          seed: 3 + i,
        });
      }
    });
  });

  test(`${fn}: a strided view as input`, () => {
    gradCheck({
      name: `${fn} of a transposed view over dim 1`,
      inputs: [{ shape: [4, 3] }],
      ours: (x) => op(x.transpose(0, 1), 1),
      reference: (x) => {
        const out = new Float64Array(3);
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 4; j++) out[i] += x[j * 3 + i];
          if (fn === "mean") out[i] /= 4;
        }
        return out;
      },
    });
  });
}

test("sum and mean: exact small values; the full reduction is a 0-d tensor", () => {
  const x = fromArray([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(sum(x).toArray(), 21);
  assert.deepEqual([...sum(x).shape], []);
  assert.deepEqual([...sum(x, undefined, { keepDim: true }).shape], [1, 1]);
  assert.equal(mean(x).item(), 3.5);
  assert.deepEqual(sum(x, 0).toArray(), [5, 7, 9]);
  assert.deepEqual(sum(x, -1, { keepDim: true }).toArray(), [[6], [15]]);
  assert.deepEqual(mean(x, [0, 1], { keepDim: false }).toArray(), 3.5);
  assert.deepEqual(mean(x, 1).toArray(), [2, 5]);
  assert.deepEqual(sum(x, []).toArray(), x.toArray(), "dims [] reduces nothing");
  assert.equal(sum(x).requiresGrad, false);
  // A scalar loss backpropagates without an explicit gradient.
  const w = fromArray([[1, 2], [3, 4]]).requiresGrad_();
  mean(w).backward();
  assert.deepEqual(w.grad!.toArray(), [[0.25, 0.25], [0.25, 0.25]]);
});

test("sum and mean accumulate in float64", () => {
  // 2^20 copies of 0.1f: a float32 running sum drifts by ~1%, float64 is exact to f32 rounding.
  const n = 1 << 20;
  const x = full([n], 0.1);
  const expected = n * Math.fround(0.1);
  assert.equal(sum(x).item(), Math.fround(expected));
  assert.equal(mean(x).item(), Math.fround(0.1));
  const rows = full([4, n / 4], 0.1);
  assert.deepEqual(sum(rows, 1).values(), new Array(4).fill(Math.fround(expected / 4)));
  const cols = full([n / 4, 4], 0.1);
  assert.deepEqual(sum(cols, 0).values(), new Array(4).fill(Math.fround(expected / 4)));
});

test("sum and mean over empty dimensions: zeros and NaN, empty outputs, zero gradients", () => {
  const e = Tensor.empty([0, 3], "f32");
  assert.deepEqual(sum(e, 0).values(), [0, 0, 0]);
  assert.ok(mean(e, 0).values().every((v) => Number.isNaN(v)));
  assert.deepEqual([...sum(e, 1).shape], [0]);
  assert.equal(sum(e).item(), 0);
  const x = Tensor.empty([2, 0, 3], "f32").requiresGrad_();
  const y = sum(x, [0, 2]);
  assert.deepEqual([...y.shape], [0]);
  const z = sum(x, 1);
  assert.deepEqual(z.values(), [0, 0, 0, 0, 0, 0]);
  z.backward(full([2, 3], 1));
  assert.deepEqual([...x.grad!.shape], [2, 0, 3]);
});

test("max: forward and gradient along each dimension, with keepDim", () => {
  const shape = [3, 4, 5];
  for (const dim of [0, 1, 2, -1]) {
    for (const keepDim of [false, true]) {
      const y = max(fromArray(new Float32Array(60), { shape }), dim, { keepDim });
      const nd = norm(dim, 3);
      assert.deepEqual([...y.shape], expectedShape(shape, nd, keepDim));
      gradCheck({
        name: `max dim ${dim} keepDim ${keepDim}`,
        inputs: [{ shape }],
        ours: (x) => max(x, dim, { keepDim }),
        reference: refReduce(shape, nd, "max"),
      });
    }
  }
  gradCheck({ name: "max of a single row", inputs: [{ shape: [1, 6] }], ours: (x) => max(x, 1), reference: refReduce([1, 6], [1], "max") });
  gradCheck({ name: "max over a size-1 dim", inputs: [{ shape: [4, 1] }], ours: (x) => max(x, 1), reference: refReduce([4, 1], [1], "max") });
  gradCheck({
    name: "max of a strided view",
    inputs: [{ shape: [4, 3] }],
    ours: (x) => max(x.transpose(0, 1), 1),
    reference: (x) => {
      const out = new Float64Array(3).fill(-Infinity);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) out[i] = Math.max(out[i], x[j * 3 + i]);
      return out;
    },
  });
});

test("max: ties send the gradient to the first maximum; NaN wins", () => {
  const x = fromArray([[1, 3, 3, 2], [5, 5, 5, 5], [-Infinity, -Infinity, -1, -1]]).requiresGrad_();
  const y = max(x, 1);
  assert.deepEqual(y.values(), [3, 5, -1]);
  y.backward(fromArray([10, 20, 30]));
  assert.deepEqual(x.grad!.toArray(), [[0, 10, 0, 0], [20, 0, 0, 0], [0, 0, 30, 0]]);
  const n = fromArray([[1, NaN, 3], [NaN, 2, NaN], [4, 5, 6]]).requiresGrad_();
  const m = max(n, -1);
  assert.ok(Number.isNaN(m.values()[0]) && Number.isNaN(m.values()[1]));
  assert.equal(m.values()[2], 6);
  m.backward(fromArray([1, 2, 3]));
  assert.deepEqual(n.grad!.toArray(), [[0, 1, 0], [2, 0, 0], [0, 0, 3]]);
});

test("errors: dtype, non-tensors, bad dims, duplicate dims, bad options, max over an empty dimension", () => {
  const x = fromArray([[1, 2, 3], [4, 5, 6]]);
  const i32 = fromArray([1, 2], { dtype: "i32" }) as unknown as Tensor<"f32">;
  for (const [name, op] of [["sum", sum], ["mean", mean]] as const) {
    assert.throws(() => op(i32), new RegExp(`^TypeError: ${name}: x must have dtype 'f32', received 'i32'`));
    assert.throws(() => op([1, 2] as unknown as Tensor<"f32">), new RegExp(`^TypeError: ${name}: x must be a Tensor, received an array of length 2`));
    assert.throws(() => op(x, 2), new RegExp(`^RangeError: ${name}: dims must be an integer in \\[-2, 1\\] for a 2-d tensor, received 2`));
    assert.throws(() => op(x, [0, -3]), new RegExp(`^RangeError: ${name}: dims\\[1\\] must be an integer in \\[-2, 1\\] for a 2-d tensor, received -3`));
    assert.throws(() => op(x, 0.5), new RegExp(`^RangeError: ${name}: dims must be an integer in \\[-2, 1\\] for a 2-d tensor, received 0.5`));
    assert.throws(() => op(x, NaN), new RegExp(`^RangeError: ${name}: dims must be an integer`));
    assert.throws(() => op(x, [1, -1]), new RegExp(`^RangeError: ${name}: dims must not repeat a dimension, received \\[1, -1\\] \\(dimension 1 appears twice\\)`));
    assert.throws(() => op(x, [0, 0]), new RegExp(`^RangeError: ${name}: dims must not repeat a dimension`));
    assert.throws(() => op(x, "0" as unknown as number), new RegExp(`^TypeError: ${name}: dims must be an integer or an array of integers, received '0'`));
    assert.throws(() => op(x, ["0"] as unknown as number[]), new RegExp(`^TypeError: ${name}: dims\\[0\\] must be an integer, received '0'`));
    assert.throws(() => op(x, 0, true as unknown as { keepDim: boolean }), new RegExp(`^TypeError: ${name}: opts must be an object \\{ keepDim\\?: boolean \\}, received true`));
    assert.throws(() => op(x, 0, { keepDim: 1 as unknown as boolean }), new RegExp(`^TypeError: ${name}: opts.keepDim must be a boolean, received 1`));
    assert.throws(() => op(fromArray(1), 0), new RegExp(`^RangeError: ${name}: dims must be an integer in \\[0, -1\\] for a 0-d tensor, received 0`));
  }
  assert.throws(() => max(i32, 0), /^TypeError: max: x must have dtype 'f32', received 'i32'/);
  assert.throws(() => max(x, undefined as unknown as number), /^TypeError: max: dim must be an integer, received undefined/);
  assert.throws(() => max(x, 2), /^RangeError: max: dim must be an integer in \[-2, 1\] for a 2-d tensor, received 2/);
  assert.throws(() => max(x, 0, { keepDim: "yes" as unknown as boolean }), /^TypeError: max: opts.keepDim must be a boolean, received 'yes'/);
  assert.throws(() => max(Tensor.empty([2, 0], "f32"), 1), /^RangeError: max: dimension 1 of x has size 0 \(shape \[2, 0\]\), which has no maximum/);
  assert.deepEqual([...max(Tensor.empty([0, 2], "f32"), 1).shape], [0], "an empty output is fine");
  const gone = fromArray([1]);
  gone.dispose();
  assert.throws(() => sum(gone), /sum: x was disposed/);
});
