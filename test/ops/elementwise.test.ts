// Elementwise ops: every broadcasting layout of the binary ops (same shape, scalar, row, column,
// mirrored, general), every unary op, dropout's mask and gradient, and the errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { add, sub, mul, div, neg, scale, exp, log, sqrt, square, relu, relu2, silu, sigmoid, tanh, dropout, sumToShape } from "../../src/ops/elementwise";
import { Tensor, Generator, fromArray, ones, wrap } from "../../src";
import { gradCheck } from "./gradcheck";

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NumPy broadcast of two shapes (test-side, independent of the library). */
function broadcast(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into an array of shape `shape` for output multi-index `idx` (broadcast). */
function sourceIndex(idx: number[], shape: number[]): number {
  const pad = idx.length - shape.length;
  let k = 0;
  for (let i = 0; i < shape.length; i++) k = k * shape[i] + (shape[i] === 1 ? 0 : idx[i + pad]);
  return k;
}

/** float64 reference of a broadcast binary function. */
function refBinary(f: (x: number, y: number) => number, aShape: number[], bShape: number[]) {
  return (a: Float64Array, b: Float64Array): Float64Array => {
    const out = broadcast(aShape, bShape);
    const n = numel(out);
    const res = new Float64Array(n);
    const idx = new Array<number>(out.length).fill(0);
    for (let k = 0; k < n; k++) {
      let rest = k;
      for (let d = out.length - 1; d >= 0; d--) {
        idx[d] = rest % out[d];
        rest = Math.floor(rest / out[d]);
      }
      res[k] = f(a[sourceIndex(idx, aShape)], b[sourceIndex(idx, bShape)]);
    }
    return res;
  };
}

/** Values of N(0,1)-like size kept away from 0 (for divisors and logs). */
function awayFromZero(n: number, seed: number, positive = false): number[] {
  const gen = new Generator(seed);
  const v = new Float32Array(n);
  gen.uniform(v, 0.5, 2);
  const s = new Float32Array(n);
  gen.uniform(s);
  return Array.from(v, (x, i) => (positive || s[i] < 0.5 ? x : -x));
}

const binaryOps = [
  { name: "add", op: add, f: (x: number, y: number) => x + y },
  { name: "sub", op: sub, f: (x: number, y: number) => x - y },
  { name: "mul", op: mul, f: (x: number, y: number) => x * y },
  { name: "div", op: div, f: (x: number, y: number) => x / y },
];

// [a shape, b shape, which path they exercise]
const shapePairs: [number[], number[], string][] = [
  [[3, 4], [3, 4], "same shape"],
  [[1, 5], [1, 5], "same shape, a single row"],
  [[1], [1], "one element"],
  [[2, 3, 4], [4], "row: [B,T,C] with [C]"],
  [[2, 3, 4], [3, 4], "row: [B,T,C] with [T,C]"],
  [[2, 3, 4], [1, 1, 4], "row: [B,T,C] with [1,1,C]"],
  [[5, 4], [5, 1], "column: [N,C] with [N,1]"],
  [[2, 3, 4], [2, 3, 1], "column: [B,T,C] with [B,T,1]"],
  [[2, 3, 4], [2, 1, 1], "column: [B,T,C] with [B,1,1]"],
  [[3, 4], [1], "scalar tensor"],
  [[3, 2], [], "0-d tensor"],
  [[4], [2, 3, 4], "mirrored row"],
  [[5, 1], [5, 4], "mirrored column"],
  [[1], [3, 4], "mirrored scalar tensor"],
  [[2, 1, 3], [4, 1], "general: [2,1,3] with [4,1]"],
  [[3, 1], [1, 4], "general: outer-product shape"],
  [[2, 1, 3], [2, 4, 1], "general: both broadcast"],
  [[2, 3, 4], [2, 1, 4], "general: middle dimension"],
];

for (const { name, op, f } of binaryOps) {
  test(`${name}: forward and gradients on every broadcasting layout`, () => {
    shapePairs.forEach(([aShape, bShape, what], i) => {
      gradCheck({
        name: `${name} ${what}`,
        inputs: [{ shape: aShape }, name === "div" ? { shape: bShape, values: awayFromZero(numel(bShape), 100 + i) } : { shape: bShape }],
        ours: (a, b) => op(a, b),
        reference: refBinary(f, aShape, bShape),
        seed: 10 + i,
      });
    });
  });

  test(`${name}: with a number on either side`, () => {
    const s = 2.5;
    const xValues = name === "div" ? awayFromZero(12, 7) : undefined;
    gradCheck({
      name: `${name}(x, ${s})`,
      inputs: [{ shape: [3, 4] }],
      ours: (x) => op(x, s),
      reference: (x) => x.map((v) => f(v, s)),
    });
    gradCheck({
      name: `${name}(${s}, x)`,
      inputs: [{ shape: [3, 4], values: xValues }],
      ours: (x) => op(s, x),
      reference: (x) => x.map((v) => f(s, v)),
    });
  });

  test(`${name}: only inputs that require grad get a gradient (a frozen operand on either side)`, () => {
    const bValues = awayFromZero(4, 11);
    for (const frozen of [0, 1]) {
      gradCheck({
        name: `${name} with input ${frozen} frozen`,
        inputs: [{ shape: [2, 3, 4], grad: frozen !== 0 }, { shape: [4], values: bValues, grad: frozen !== 1 }],
        ours: (a, b) => op(a, b),
        reference: refBinary(f, [2, 3, 4], [4]),
      });
    }
    const a = fromArray([1, 2]).requiresGrad_();
    const frozenB = fromArray([3, 4]);
    op(a, frozenB).backward(fromArray([1, 1]));
    assert.equal(frozenB.grad, null);
  });

  test(`${name}: the same tensor on both sides, and a strided view as input`, () => {
    const values = name === "div" ? awayFromZero(6, 3) : undefined;
    gradCheck({
      name: `${name}(x, x)`,
      inputs: [{ shape: [2, 3], values }],
      ours: (x) => op(x, x),
      reference: (x) => x.map((v) => f(v, v)),
    });
    gradCheck({
      name: `${name}(x^T, y) with [C] broadcast`,
      inputs: [{ shape: [4, 3] }, { shape: [4], values: awayFromZero(4, 5) }],
      ours: (x, y) => op(x.transpose(0, 1), y),
      reference: (x, y) => {
        const out = new Float64Array(12);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = f(x[j * 3 + i], y[j]);
        return out;
      },
    });
  });
}

test("binary ops: output shapes, exact small values and no tape without requiresGrad", () => {
  const a = fromArray([[1, 2, 3], [4, 5, 6]]);
  const b = fromArray([10, 20, 30]);
  const c = fromArray([[2], [4]]);
  assert.deepEqual(add(a, b).toArray(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(sub(b, a).toArray(), [[9, 18, 27], [6, 15, 24]]);
  assert.deepEqual(mul(a, c).toArray(), [[2, 4, 6], [16, 20, 24]]);
  assert.deepEqual(div(a, c).toArray(), [[0.5, 1, 1.5], [1, 1.25, 1.5]]);
  assert.deepEqual(div(1, c).toArray(), [[0.5], [0.25]]);
  assert.deepEqual(sub(10, b).toArray(), [0, -10, -20]);
  assert.deepEqual([...add(c, b).shape], [2, 3]);
  assert.deepEqual([...add(fromArray(1), fromArray(2)).shape], []);
  assert.deepEqual([...mul(Tensor.empty([0, 3], "f32"), b).shape], [0, 3]);
  const y = add(a, b);
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradNode, null);
});

test("binary ops: a gradient against an empty broadcast output is zeros of the input's shape", () => {
  const a = Tensor.empty([0, 3], "f32").requiresGrad_();
  const b = fromArray([[1, 2, 3]]).requiresGrad_();
  const y = mul(a, b);
  y.backward(Tensor.empty([0, 3], "f32"));
  assert.deepEqual(b.grad!.toArray(), [[0, 0, 0]]);
});

test("sumToShape sums over missing leading and size-1 dimensions", () => {
  const g = fromArray([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]); // [2, 2, 3]
  assert.deepEqual(sumToShape(g, [3]).toArray(), [22, 26, 30]);
  assert.deepEqual(sumToShape(g, [2, 1]).toArray(), [[30], [48]], "[2, 1] aligns with the trailing dimensions");
  assert.deepEqual(sumToShape(g, [2, 1, 1]).toArray(), [[[21]], [[57]]]);
  assert.deepEqual(sumToShape(g, [2, 1, 3]).toArray(), [[[5, 7, 9]], [[17, 19, 21]]]);
  assert.deepEqual(sumToShape(g, [1, 2, 1]).toArray(), [[[30], [48]]]);
  assert.deepEqual(sumToShape(g, []).toArray(), 78);
  assert.deepEqual(sumToShape(g, [1, 2, 3]).toArray(), [[[8, 10, 12], [14, 16, 18]]]);
  const same = sumToShape(g, [2, 2, 3]);
  assert.notEqual(same, g, "always a new tensor");
  assert.deepEqual(same.toArray(), g.toArray());
  assert.deepEqual(sumToShape(g.transpose(0, 2), [3, 1, 1]).toArray(), [[[22]], [[26]], [[30]]], "a strided gradient");
  assert.throws(() => sumToShape(g, [4]), /^RangeError: sumToShape: shape \[4\] does not broadcast to the gradient's shape \[2, 2, 3\]/);
  assert.throws(() => sumToShape(g, [1, 1, 2, 2, 3]), /sumToShape: shape \[1, 1, 2, 2, 3\] does not broadcast/);
  assert.throws(() => sumToShape(g, [1.5] as number[]), /^TypeError: sumToShape: shape must be an array of non-negative integers/);
});

// -------------------------------------------------------------------------------------------
// Unary ops

const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const unaryOps: { name: string; op: (x: Tensor<"f32">) => Tensor<"f32">; f: (v: number) => number; positive?: boolean; awayFromZero?: boolean }[] = [
  { name: "neg", op: neg, f: (v) => -v },
  { name: "scale", op: (x) => scale(x, -1.75), f: (v) => v * -1.75 },
  { name: "exp", op: exp, f: Math.exp },
  { name: "log", op: log, f: Math.log, positive: true },
  { name: "sqrt", op: sqrt, f: Math.sqrt, positive: true },
  { name: "square", op: square, f: (v) => v * v },
  { name: "relu", op: relu, f: (v) => Math.max(v, 0), awayFromZero: true },
  { name: "relu2", op: relu2, f: (v) => (v > 0 ? v * v : 0), awayFromZero: true },
  { name: "silu", op: silu, f: (v) => v * sig(v) },
  { name: "sigmoid", op: sigmoid, f: sig },
  { name: "tanh", op: tanh, f: Math.tanh },
];

for (const { name, op, f, positive, awayFromZero: away } of unaryOps) {
  test(`${name}: forward and gradient`, () => {
    for (const shape of [[3, 5], [1, 7], [2, 1, 3], [1]]) {
      const n = numel(shape);
      const values = positive || away ? awayFromZero(n, n + 17, positive) : undefined;
      gradCheck({ name: `${name} ${JSON.stringify(shape)}`, inputs: [{ shape, values }], ours: op, reference: (x) => x.map(f) });
    }
    gradCheck({
      name: `${name} of a strided view`,
      inputs: [{ shape: [4, 3], values: positive || away ? awayFromZero(12, 9, positive) : undefined }],
      ours: (x) => op(x.transpose(0, 1)),
      reference: (x) => {
        const out = new Float64Array(12);
        for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = f(x[j * 3 + i]);
        return out;
      },
    });
  });
}

test("unary ops: values at the edges (relu at 0, large |x| in sigmoid/silu/tanh, log and sqrt at 0)", () => {
  const x = fromArray([-1000, -1, 0, 1, 1000]);
  assert.deepEqual(relu(x).values(), [0, 0, 0, 1, 1000]);
  assert.deepEqual(relu2(x).values(), [0, 0, 0, 1, 1e6]);
  assert.deepEqual(sigmoid(x).values().map((v) => Math.round(v * 1e6) / 1e6), [0, 0.268941, 0.5, 0.731059, 1]);
  assert.deepEqual(silu(fromArray([-1000, 0, 1000])).values(), [-0, 0, 1000]);
  assert.deepEqual(tanh(fromArray([-1000, 0, 1000])).values(), [-1, 0, 1]);
  assert.deepEqual(log(fromArray([0, 1])).values(), [-Infinity, 0]);
  assert.deepEqual(sqrt(fromArray([0, 4])).values(), [0, 2]);
  const z = fromArray([0, 2]).requiresGrad_();
  relu(z).backward(fromArray([5, 5]));
  assert.deepEqual(z.grad!.values(), [0, 5], "relu's gradient at exactly 0 is 0");
});

// -------------------------------------------------------------------------------------------
// Dropout

test("dropout: the same seed gives the same mask, another seed another; kept values are x/(1-p)", () => {
  const x = fromArray(Array.from({ length: 4000 }, (_, i) => (i % 7) - 3 + 0.5));
  const p = 0.3;
  const a = dropout(x, p, { training: true, generator: new Generator(42) }).values();
  const b = dropout(x, p, { training: true, generator: new Generator(42) }).values();
  const c = dropout(x, p, { training: true, generator: new Generator(43) }).values();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const xs = x.values();
  let kept = 0;
  a.forEach((v, i) => {
    if (v === 0) return;
    kept++;
    assert.equal(v, Math.fround(xs[i] * Math.fround(1 / (1 - p))));
  });
  // 4000 draws: the kept fraction is within ~5 standard deviations (0.036) of 0.7.
  assert.ok(Math.abs(kept / 4000 - 0.7) < 0.036, `kept fraction ${kept / 4000}`);
  // A generator advances: two calls with one generator differ.
  const gen = new Generator(42);
  const first = dropout(x, p, { training: true, generator: gen }).values();
  assert.deepEqual(first, a);
  assert.notDeepEqual(dropout(x, p, { training: true, generator: gen }).values(), a);
});

test("dropout: masks larger than one draw chunk match one big uniform draw", () => {
  const n = 10000;
  const u = new Float32Array(n);
  new Generator(9).uniform(u);
  const y = dropout(ones([n]), 0.5, { training: true, generator: new Generator(9) }).values();
  y.forEach((v, i) => assert.equal(v, u[i] >= 0.5 ? 2 : 0, `element ${i}`));
});

test("dropout: the gradient is g times the same mask and scale", () => {
  const p = 0.4;
  const shape = [6, 7];
  // mask/(1-p), read back from the forward of an all-ones input with the same seed
  const m = dropout(ones(shape), p, { training: true, generator: new Generator(5) }).toFloat32Array();
  assert.ok(m.some((v) => v === 0) && m.some((v) => v !== 0));
  gradCheck({
    name: "dropout",
    inputs: [{ shape }],
    ours: (x) => dropout(x, p, { training: true, generator: new Generator(5) }),
    reference: (x) => x.map((v, i) => v * m[i]),
  });
  // And directly: backward of a fixed upstream gradient.
  const x = fromArray(Array.from({ length: 42 }, (_, i) => i - 20), { shape }).requiresGrad_();
  const w = Float32Array.from({ length: 42 }, (_, i) => 1 + i / 10);
  dropout(x, p, { training: true, generator: new Generator(5) }).backward(wrap(w, { shape, dtype: "f32" }));
  assert.deepEqual(x.grad!.values(), Array.from(w, (v, i) => Math.fround(v * m[i])));
});

test("dropout: identity when not training or p = 0, with the gradient passed through", () => {
  const x = fromArray([[1, -2], [3, 4]]).requiresGrad_();
  const gen = new Generator(1);
  const before = gen.getState();
  const y = dropout(x, 0.5, { training: false, generator: gen });
  assert.notEqual(y, x);
  assert.deepEqual(y.toArray(), x.toArray());
  assert.deepEqual(gen.getState(), before, "evaluation draws nothing");
  y.backward(fromArray([[1, 2], [3, 4]]));
  assert.deepEqual(x.grad!.toArray(), [[1, 2], [3, 4]]);
  y.dispose();
  assert.equal(x.disposed, false, "disposing the result leaves x alive");
  assert.deepEqual(dropout(x, 0, { training: true }).toArray(), x.toArray());
  assert.deepEqual(dropout(x.transpose(0, 1), 0, { training: true }).toArray(), [[1, 3], [-2, 4]]);
});

// -------------------------------------------------------------------------------------------
// Errors

test("errors: incompatible broadcast, wrong dtypes, non-tensor and non-finite arguments, disposed tensors", () => {
  const x = fromArray([[1, 2, 3], [4, 5, 6]]);
  const i32 = fromArray([1, 2, 3], { dtype: "i32" });
  assert.throws(() => add(x, fromArray([1, 2])), /^RangeError: add: shapes \[2, 3\] and \[2\] do not broadcast \(dimension 1: 3 vs 2\)/);
  assert.throws(() => mul(fromArray([[1, 2]]), fromArray([[1, 2, 3]])), /^RangeError: mul: shapes \[1, 2\] and \[1, 3\] do not broadcast/);
  assert.throws(() => mul(x, i32 as unknown as Tensor<"f32">), /^TypeError: mul: b must have dtype 'f32', received 'i32'/);
  assert.throws(() => sub(i32 as unknown as Tensor<"f32">, 1), /^TypeError: sub: a must have dtype 'f32', received 'i32'/);
  assert.throws(() => div("2" as unknown as number, x), /^TypeError: div: a must be a Tensor or a number, received '2'/);
  assert.throws(() => add(x, [1, 2, 3] as unknown as number), /^TypeError: add: b must be a Tensor or a number, received an array of length 3/);
  assert.throws(() => add(x, null as unknown as number), /^TypeError: add: b must be a Tensor or a number, received null/);
  assert.throws(() => add(1, 2), /^TypeError: add: at least one of a and b must be a Tensor, received two numbers \(1 and 2\)/);
  assert.throws(() => mul(x, NaN), /^RangeError: mul: b must be finite, received NaN/);
  assert.throws(() => div(Infinity, x), /^RangeError: div: a must be finite, received Infinity/);
  for (const { name, op } of unaryOps) {
    assert.throws(() => op(i32 as unknown as Tensor<"f32">), new RegExp(`^TypeError: ${name}: x must have dtype 'f32', received 'i32'`));
    assert.throws(() => op([1, 2] as unknown as Tensor<"f32">), new RegExp(`^TypeError: ${name}: x must be a Tensor, received an array of length 2`));
  }
  assert.throws(() => scale(x, NaN), /^RangeError: scale: s must be finite, received NaN/);
  assert.throws(() => scale(x, "2" as unknown as number), /^TypeError: scale: s must be a number, received '2'/);
  const gone = fromArray([1]);
  gone.dispose();
  assert.throws(() => add(gone, 1), /add: a was disposed/);
  assert.throws(() => exp(gone), /exp: x was disposed/);
});

test("errors: dropout's p, opts and generator", () => {
  const x = fromArray([1, 2, 3]);
  assert.throws(() => dropout(x, 1, { training: true }), /^RangeError: dropout: p must be in \[0, 1\), received 1/);
  assert.throws(() => dropout(x, NaN, { training: true }), /^RangeError: dropout: p must be in \[0, 1\), received NaN/);
  assert.throws(() => dropout(x, -0.1, { training: false }), /^RangeError: dropout: p must be in \[0, 1\), received -0.1/);
  assert.throws(() => dropout(x, "0.5" as unknown as number, { training: true }), /^TypeError: dropout: p must be a number in \[0, 1\), received '0.5'/);
  assert.throws(() => dropout(x, 0.5, undefined as unknown as { training: boolean }), /^TypeError: dropout: opts must be an object \{ training: boolean, generator\?: Generator \}, received undefined/);
  assert.throws(() => dropout(x, 0.5, {} as { training: boolean }), /^TypeError: dropout: opts.training must be a boolean, received undefined/);
  assert.throws(() => dropout(x, 0.5, { training: true, generator: 42 as unknown as Generator }), /^TypeError: dropout: opts.generator must be a Generator, received 42/);
  assert.throws(() => dropout(fromArray([1], { dtype: "i32" }) as unknown as Tensor<"f32">, 0.5, { training: true }), /^TypeError: dropout: x must have dtype 'f32', received 'i32'/);
});
