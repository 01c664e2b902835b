// The neural-network ops (embedding, rmsNorm, softmax, logSoftmax, crossEntropy, concat):
// forward against float64 references, gradients against float64 finite differences, numerical
// stability, strided inputs and gradients, and one test per class of bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, Tensor, backendInfo, fromArray, getNumThreads, memoryStats, noGrad, setIsa, setNumThreads, wrap, zeroGrad } from "../../src";
import { concat, crossEntropy, embedding, logSoftmax, rmsNorm, softmax } from "../../src/ops/nn";
import { gradCheck } from "./gradcheck";

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const i32 = (v: number[], shape?: number[]): Tensor<"i32"> => wrap(Int32Array.from(v), { shape: shape ?? [v.length], dtype: "i32" });

// ------------------------------------------------------------------------------ references

function embeddingRef(w: Float64Array, D: number, ids: number[]): Float64Array {
  const y = new Float64Array(ids.length * D);
  ids.forEach((id, i) => {
    for (let k = 0; k < D; k++) y[i * D + k] = w[id * D + k];
  });
  return y;
}

function rmsNormRef(x: Float64Array, w: Float64Array | null, D: number, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / D; r++) {
    let ss = 0;
    for (let k = 0; k < D; k++) ss += x[r * D + k] ** 2;
    const s = 1 / Math.sqrt(ss / D + eps);
    for (let k = 0; k < D; k++) y[r * D + k] = x[r * D + k] * s * (w === null ? 1 : w[k]);
  }
  return y;
}

function softmaxRef(x: Float64Array, shape: number[], dim: number, log: boolean): Float64Array {
  const d = dim < 0 ? dim + shape.length : dim;
  const outer = prod(shape.slice(0, d));
  const n = shape[d];
  const inner = prod(shape.slice(d + 1));
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number): number => o * n * inner + j * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, x[at(j)]);
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[at(j)] - m);
      for (let j = 0; j < n; j++) y[at(j)] = log ? x[at(j)] - m - Math.log(s) : Math.exp(x[at(j)] - m) / s;
    }
  }
  return y;
}

function crossEntropyRef(x: Float64Array, V: number, targets: number[], reduction: "mean" | "sum" | "none", ignore?: number): Float64Array {
  const rows = new Float64Array(targets.length);
  let total = 0;
  let count = 0;
  targets.forEach((t, i) => {
    if (t === ignore) return;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, x[i * V + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(x[i * V + j] - m);
    rows[i] = m + Math.log(s) - x[i * V + t];
    total += rows[i];
    count++;
  });
  if (reduction === "none") return rows;
  return Float64Array.of(reduction === "mean" ? total / count : total);
}

/** Transposes a flat row-major [R, C] matrix. */
function transpose2(x: Float64Array, R: number, C: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[c * R + r] = x[r * C + c];
  return y;
}

/** Joins flat row-major tensors of `shapes` along `dim`. */
function concatRef(xs: Float64Array[], shapes: number[][], dim: number): Float64Array {
  const outer = prod(shapes[0].slice(0, dim));
  const inner = prod(shapes[0].slice(dim + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    xs.forEach((x, k) => {
      const blk = shapes[k][dim] * inner;
      for (let e = 0; e < blk; e++) out.push(x[o * blk + e]);
    });
  }
  return Float64Array.from(out);
}

// ------------------------------------------------------------------------------ embedding

test("embedding: rows for ids of any shape, weight gradient sums repeated ids", () => {
  const ids = [1, 3, 1, 0, 3, 3];
  gradCheck({
    name: "embedding [2, 3] ids",
    inputs: [{ shape: [5, 4] }],
    ours: (w) => embedding(w, i32(ids, [2, 3])),
    reference: (w) => embeddingRef(w, 4, ids),
  });
  gradCheck({
    name: "embedding 0-d id",
    inputs: [{ shape: [3, 2] }],
    ours: (w) => embedding(w, i32([2], [])),
    reference: (w) => embeddingRef(w, 2, [2]),
  });
  // Strided ids (a transposed view) are read in logical order.
  const w = fromArray([[0, 1], [10, 11], [20, 21]]);
  const idsT = i32([0, 1, 2, 2, 1, 0], [2, 3]).transpose(0, 1);
  const y = embedding(w, idsT);
  assert.deepEqual(y.shape, [3, 2, 2]);
  assert.deepEqual(y.toArray(), [[[0, 1], [20, 21]], [[10, 11], [10, 11]], [[20, 21], [0, 1]]]);
});

test("embedding: the saved ids are a copy, so reusing the ids tensor before backward does not change the gradient", () => {
  const w = fromArray([[1, 2], [3, 4], [5, 6]]).requiresGrad_();
  const idsArr = Int32Array.from([2, 2, 0]);
  const y = embedding(w, wrap(idsArr, { dtype: "i32" }));
  idsArr.fill(1);
  y.backward(fromArray([[1, 1], [1, 1], [1, 1]]));
  assert.deepEqual(w.grad!.toArray(), [[1, 1], [0, 0], [2, 2]]);
  zeroGrad([w]);
});

// ------------------------------------------------------------------------------ rmsNorm

test("rmsNorm: with and without weight, a single row, D = 1, a strided input", () => {
  gradCheck({
    name: "rmsNorm [3, 5] with weight",
    inputs: [{ shape: [3, 5] }, { shape: [5] }],
    ours: (x, w) => rmsNorm(x, w),
    reference: (x, w) => rmsNormRef(x, w, 5, 1e-5),
  });
  gradCheck({
    name: "rmsNorm [2, 3, 4] without weight",
    inputs: [{ shape: [2, 3, 4] }],
    ours: (x) => rmsNorm(x, null, 1e-3),
    reference: (x) => rmsNormRef(x, null, 4, 1e-3),
  });
  gradCheck({
    name: "rmsNorm [1, 7] single row",
    inputs: [{ shape: [1, 7] }, { shape: [7] }],
    ours: (x, w) => rmsNorm(x, w),
    reference: (x, w) => rmsNormRef(x, w, 7, 1e-5),
  });
  // D = 1: y = x / sqrt(x^2 + eps) is nearly sign(x), its gradient eps / (x^2 + eps)^1.5; a
  // large eps keeps that gradient from being a float32 cancellation of two near-equal terms.
  gradCheck({
    name: "rmsNorm [4, 1] D = 1",
    inputs: [{ shape: [4, 1] }, { shape: [1] }],
    ours: (x, w) => rmsNorm(x, w, 0.5),
    reference: (x, w) => rmsNormRef(x, w, 1, 0.5),
  });
  gradCheck({
    name: "rmsNorm of a transposed view",
    inputs: [{ shape: [6, 3] }, { shape: [6] }],
    ours: (x, w) => rmsNorm(x.transpose(0, 1), w),
    reference: (x, w) => rmsNormRef(transpose2(x, 6, 3), w, 6, 1e-5),
  });
  // A weight that does not require grad gets none; x still does.
  gradCheck({
    name: "rmsNorm with a frozen weight",
    inputs: [{ shape: [2, 4] }, { shape: [4], grad: false }],
    ours: (x, w) => rmsNorm(x, w),
    reference: (x, w) => rmsNormRef(x, w, 4, 1e-5),
  });
});

// ------------------------------------------------------------------------------ softmax

test("softmax and logSoftmax: last dim, dim 0 and 1 of a 3-d tensor, a strided output gradient", () => {
  for (const [name, op, log] of [["softmax", softmax, false], ["logSoftmax", logSoftmax, true]] as const) {
    gradCheck({
      name: `${name} [3, 5] last dim`,
      inputs: [{ shape: [3, 5] }],
      ours: (x) => op(x),
      reference: (x) => softmaxRef(x, [3, 5], -1, log),
    });
    gradCheck({
      name: `${name} [4, 3, 2] dim 0`,
      inputs: [{ shape: [4, 3, 2] }],
      ours: (x) => op(x, 0),
      reference: (x) => softmaxRef(x, [4, 3, 2], 0, log),
    });
    gradCheck({
      name: `${name} [2, 3, 4] dim 1`,
      inputs: [{ shape: [2, 3, 4] }],
      ours: (x) => op(x, 1),
      reference: (x) => softmaxRef(x, [2, 3, 4], 1, log),
    });
    gradCheck({
      name: `${name} [1, 1] (one element)`,
      inputs: [{ shape: [1, 1] }],
      ours: (x) => op(x),
      reference: (x) => softmaxRef(x, [1, 1], -1, log),
    });
    // The transpose after the op hands it a strided gradient; the input is a strided view too.
    gradCheck({
      name: `${name} of a view, gradient through a view`,
      inputs: [{ shape: [4, 3] }],
      ours: (x) => op(x.transpose(0, 1), 0).transpose(0, 1),
      reference: (x) => transpose2(softmaxRef(transpose2(x, 4, 3), [3, 4], 0, log), 3, 4),
    });
  }
});

test("softmax and logSoftmax are stable for large logits; NaN and +Infinity give NaN rows", () => {
  const x = fromArray([[1000, 1001, 1002], [-1000, 0, 1000]]);
  const ref = softmaxRef(Float64Array.from([1000, 1001, 1002, -1000, 0, 1000]), [2, 3], -1, false);
  const refLog = softmaxRef(Float64Array.from([1000, 1001, 1002, -1000, 0, 1000]), [2, 3], -1, true);
  const p = softmax(x).toFloat32Array();
  const lp = logSoftmax(x).toFloat32Array();
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(p[i] - ref[i]) <= 1e-6, `softmax element ${i}: ${p[i]} vs ${ref[i]}`);
    assert.ok(Math.abs(lp[i] - refLog[i]) <= 1e-4 * Math.max(1, Math.abs(refLog[i])), `logSoftmax element ${i}: ${lp[i]} vs ${refLog[i]}`);
  }
  const bad = softmax(fromArray([[NaN, 1], [Infinity, 1], [2, 1]])).toArray() as number[][];
  assert.ok(bad[0].every(Number.isNaN) && bad[1].every(Number.isNaN));
  assert.ok(bad[2].every(Number.isFinite));
});

// ------------------------------------------------------------------------------ crossEntropy

test("crossEntropy: mean, sum and none, with an ignored target, a strided input", () => {
  const targets = [1, 5, 0, 3];
  for (const reduction of ["mean", "sum", "none"] as const) {
    gradCheck({
      name: `crossEntropy ${reduction}`,
      inputs: [{ shape: [4, 6] }],
      ours: (x) => crossEntropy(x, i32(targets), { reduction }),
      reference: (x) => crossEntropyRef(x, 6, targets, reduction),
    });
    const withIgnored = [1, -100, 0, 3];
    gradCheck({
      name: `crossEntropy ${reduction} with ignoreIndex`,
      inputs: [{ shape: [4, 6] }],
      ours: (x) => crossEntropy(x, i32(withIgnored), { reduction, ignoreIndex: -100 }),
      reference: (x) => crossEntropyRef(x, 6, withIgnored, reduction, -100),
    });
  }
  gradCheck({
    name: "crossEntropy default (mean), single row",
    inputs: [{ shape: [1, 3] }],
    ours: (x) => crossEntropy(x, i32([2])),
    reference: (x) => crossEntropyRef(x, 3, [2], "mean"),
  });
  gradCheck({
    name: "crossEntropy of a transposed view",
    inputs: [{ shape: [5, 3] }],
    ours: (x) => crossEntropy(x.transpose(0, 1), i32([4, 0, 2])),
    reference: (x) => crossEntropyRef(transpose2(x, 5, 3), 5, [4, 0, 2], "mean"),
  });
  const loss = crossEntropy(fromArray([[1, 2]]), i32([0]));
  assert.deepEqual(loss.shape, [], "mean and sum give a 0-d tensor");
  assert.deepEqual(crossEntropy(fromArray([[1, 2]]), i32([0]), { reduction: "none" }).shape, [1]);
});

test("crossEntropy is stable for large logits (float64 reference) and gives NaN, without throwing, for non-finite logits", () => {
  const logits = fromArray([[1000, 1001, 1002]]).requiresGrad_();
  const loss = crossEntropy(logits, i32([0]));
  const ref = 1002 + Math.log(Math.exp(-2) + Math.exp(-1) + 1) - 1000;
  assert.ok(Number.isFinite(loss.item()));
  assert.ok(Math.abs(loss.item() - ref) <= 1e-6 * ref, `loss ${loss.item()} vs float64 ${ref}`);
  loss.backward();
  const g = logits.grad!.toFloat32Array();
  const z = Math.exp(-2) + Math.exp(-1) + 1;
  const gRef = [Math.exp(-2) / z - 1, Math.exp(-1) / z, 1 / z];
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(g[j] - gRef[j]) <= 1e-6, `gradient ${j}: ${g[j]} vs ${gRef[j]}`);
  zeroGrad([logits]);

  const extreme = crossEntropy(fromArray([[-1e30, 0, 1e30]]), i32([2]));
  assert.equal(extreme.item(), 0);
  for (const v of [NaN, Infinity, -Infinity]) {
    assert.ok(Number.isNaN(crossEntropy(fromArray([[0, v, 1], [1, 2, 3]]), i32([0, 1])).item()), `a logit ${v} makes the mean NaN`);
    const rows = crossEntropy(fromArray([[0, v, 1], [1, 2, 3]]), i32([0, 1]), { reduction: "none" }).toFloat32Array();
    assert.ok(Number.isNaN(rows[0]) && Number.isFinite(rows[1]), `only the row with ${v} is NaN`);
  }
  // An ignored row does not count, even with a NaN in it; every row ignored is 0/0.
  assert.ok(Number.isFinite(crossEntropy(fromArray([[NaN, 0], [1, 2]]), i32([-1, 1]), { ignoreIndex: -1 }).item()));
  assert.ok(Number.isNaN(crossEntropy(fromArray([[1, 2]]), i32([-1]), { ignoreIndex: -1 }).item()));
  assert.equal(crossEntropy(fromArray([[1, 2]]), i32([-1]), { ignoreIndex: -1, reduction: "sum" }).item(), 0);
});

test("crossEntropy (native kernel): every ISA variant and thread count gives the same loss and gradient, close to float64", () => {
  const [N, V] = [301, 85]; // the training shape's vocabulary; rows split unevenly over threads
  const gen = new Generator(5);
  const x = new Float32Array(N * V);
  gen.normal(x);
  for (let i = 0; i < x.length; i++) x[i] *= 4;
  const targets = Array.from({ length: N }, (_, i) => (i * 37) % V);
  targets[7] = -100;
  const ref = crossEntropyRef(Float64Array.from(x), V, targets, "mean", -100)[0];
  const before = getNumThreads();
  const results: { loss: number; grad: Float32Array }[] = [];
  try {
    for (const isa of backendInfo().isa.supported) {
      setIsa(isa as "scalar");
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        const logits = wrap(x.slice(), { shape: [N, V], dtype: "f32" }).requiresGrad_();
        const loss = crossEntropy(logits, i32(targets), { ignoreIndex: -100 });
        loss.backward();
        results.push({ loss: loss.item(), grad: logits.grad!.toFloat32Array() });
        zeroGrad([logits]);
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
  assert.ok(Math.abs(results[0].loss - ref) <= 1e-6 * ref, `loss ${results[0].loss} vs float64 ${ref}`);
  for (const r of results) {
    assert.equal(r.loss, results[0].loss);
    assert.deepEqual(r.grad, results[0].grad);
  }
  // The gradient of the mean: (softmax - onehot) / count, zero on the ignored row.
  const g = results[0].grad;
  for (const i of [0, 7, 300]) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, x[i * V + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(x[i * V + j] - m);
    for (let j = 0; j < V; j++) {
      const want = i === 7 ? 0 : (Math.exp(x[i * V + j] - m) / s - (j === targets[i] ? 1 : 0)) / (N - 1);
      assert.ok(Math.abs(g[i * V + j] - want) <= 1e-9 + 1e-6 * Math.abs(want), `row ${i} class ${j}: ${g[i * V + j]} vs ${want}`);
    }
  }
});

// ------------------------------------------------------------------------------ concat

test("concat: 3 inputs along dims 0 and 1, a 3-d negative dim, a frozen input, one tensor twice", () => {
  const rows = [[2, 3], [1, 3], [3, 3]];
  gradCheck({
    name: "concat dim 0",
    inputs: rows.map((shape) => ({ shape })),
    ours: (a, b, c) => concat([a, b, c], 0),
    reference: (a, b, c) => concatRef([a, b, c], rows, 0),
  });
  const cols = [[2, 1], [2, 3], [2, 2]];
  gradCheck({
    name: "concat dim 1",
    inputs: cols.map((shape) => ({ shape })),
    ours: (a, b, c) => concat([a, b, c], 1),
    reference: (a, b, c) => concatRef([a, b, c], cols, 1),
  });
  const three = [[2, 3, 1], [2, 3, 2], [2, 3, 4]];
  gradCheck({
    name: "concat 3-d dim -1, middle input frozen",
    inputs: three.map((shape, i) => ({ shape, grad: i !== 1 })),
    ours: (a, b, c) => concat([a, b, c], -1),
    reference: (a, b, c) => concatRef([a, b, c], three, 2),
  });
  gradCheck({
    name: "concat of a tensor, its transpose and itself again",
    inputs: [{ shape: [2, 2] }],
    ours: (a) => concat([a, a.transpose(0, 1), a], 1),
    reference: (a) => concatRef([a, transpose2(a, 2, 2), a], [[2, 2], [2, 2], [2, 2]], 1),
  });
  gradCheck({
    name: "concat of a single tensor",
    inputs: [{ shape: [3] }],
    ours: (a) => concat([a]),
    reference: (a) => Float64Array.from(a),
  });
});

// ------------------------------------------------------------------------------ tape and memory

test("no tape under noGrad or without grad-requiring inputs; a training step leaks nothing", () => {
  const w = fromArray([[1, 2], [3, 4]]).requiresGrad_();
  const y = noGrad(() => softmax(embedding(w, i32([0, 1]))));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradNode, null);
  assert.equal(rmsNorm(fromArray([[1, 2]])).gradNode, null);
  y.dispose();

  const before = memoryStats().liveTensors;
  const emb = fromArray([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]]).requiresGrad_();
  const scale = fromArray([1, 1.5, 0.5]).requiresGrad_();
  const ids = i32([0, 2, 1, 2]);
  const h = embedding(emb, ids);
  const n = rmsNorm(h, scale);
  const both = concat([n, h], 0);
  const lp = logSoftmax(both);
  const targets = i32([0, 1, 2, 0, 1, 2, 0, 1]);
  const loss = crossEntropy(lp, targets, { ignoreIndex: 2 });
  loss.backward();
  assert.ok(emb.grad !== null && scale.grad !== null);
  assert.ok(emb.grad.toFloat32Array().every(Number.isFinite));
  for (const t of [ids, targets, h, n, both, lp, loss]) t.dispose();
  zeroGrad([emb, scale]);
  for (const t of [emb, scale]) t.dispose();
  assert.equal(memoryStats().liveTensors, before, "every intermediate and gradient was freed");
});

// ------------------------------------------------------------------------------ bad input

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** Checks the error class and message, and that the failed call left no tensor behind. */
function rejects(call: () => unknown, error: ErrorClass, message: RegExp): void {
  const before = memoryStats().liveTensors;
  assert.throws(call, (e: unknown) => {
    assert.ok(e instanceof Error && e.constructor === error, `expected ${error.name}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
  assert.equal(memoryStats().liveTensors, before, `a failed call leaked tensors (${message})`);
}

const ANY = (v: unknown): never => v as never;

test("embedding: bad weight, bad ids, ids out of range name the first bad id and its position", () => {
  const w = fromArray([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
  const ids5 = i32([0, 4, 1, 5, 7]);
  const idsNeg = i32([0, 1, -1, 2], [2, 2]);
  const f32Ids = fromArray([0, 1]);
  const w1d = fromArray([1, 2, 3]);
  const wInt = i32([1, 2], [1, 2]);
  const id0 = i32([0]);
  const gone = fromArray([[1]]);
  gone.dispose();
  rejects(() => embedding(w, ids5), RangeError, /^embedding: ids must be in \[0, 5\) \(the rows of weight \[5, 2\]\), received 5 at position \[3\]$/);
  rejects(() => embedding(w, idsNeg), RangeError, /^embedding: ids must be in \[0, 5\) .*received -1 at position \[1, 0\]$/);
  rejects(() => embedding(w, ANY(f32Ids)), TypeError, /^embedding: ids must have dtype 'i32', received 'f32'$/);
  rejects(() => embedding(w, ANY([0, 1])), TypeError, /^embedding: ids must be a Tensor, received an array of length 2$/);
  rejects(() => embedding(w1d, id0), RangeError, /^embedding: weight must be 2-d, received shape \[3\]$/);
  rejects(() => embedding(ANY(wInt), id0), TypeError, /^embedding: weight must have dtype 'f32', received 'i32'$/);
  rejects(() => embedding(gone, id0), Error, /^embedding: weight was disposed$/);
});

test("rmsNorm: weight shape mismatch, bad eps, bad x", () => {
  const x = fromArray([[1, 2, 3, 4]]);
  const w3 = fromArray([1, 2, 3]);
  const w2d = fromArray([[1, 2, 3, 4]]);
  const wInt = i32([1, 2, 3, 4]);
  const x0d = fromArray(3);
  rejects(() => rmsNorm(x, w3), RangeError, /^rmsNorm: weight must have shape \[4\] \(the last dimension of x\), received \[3\]$/);
  rejects(() => rmsNorm(x, w2d), RangeError, /^rmsNorm: weight must have shape \[4\] .*received \[1, 4\]$/);
  rejects(() => rmsNorm(x, ANY(wInt)), TypeError, /^rmsNorm: weight must have dtype 'f32', received 'i32'$/);
  rejects(() => rmsNorm(x, ANY("w")), TypeError, /^rmsNorm: weight must be a Tensor, received 'w'$/);
  rejects(() => rmsNorm(x, null, 0), RangeError, /^rmsNorm: eps must be > 0, received 0$/);
  rejects(() => rmsNorm(x, null, -1e-5), RangeError, /^rmsNorm: eps must be > 0, received -0.00001$/);
  rejects(() => rmsNorm(x, null, NaN), RangeError, /^rmsNorm: eps must be finite, received NaN$/);
  rejects(() => rmsNorm(x, null, Infinity), RangeError, /^rmsNorm: eps must be finite, received Infinity$/);
  rejects(() => rmsNorm(x, null, ANY("1e-5")), TypeError, /^rmsNorm: eps must be a number, received '1e-5'$/);
  rejects(() => rmsNorm(ANY(wInt), null), TypeError, /^rmsNorm: x must have dtype 'f32', received 'i32'$/);
  rejects(() => rmsNorm(x0d, null), RangeError, /^rmsNorm: x must have at least 1 dimension/);
});

test("softmax and logSoftmax: bad x, bad dim", () => {
  const x = fromArray([[1, 2], [3, 4]]);
  const xInt = i32([1, 2]);
  const x0d = fromArray(1);
  for (const [name, op] of [["softmax", softmax], ["logSoftmax", logSoftmax]] as const) {
    rejects(() => op(x, 2), RangeError, new RegExp(`^${name}: dim must be an integer in \\[-2, 1\\] for a 2-d tensor, received 2$`));
    rejects(() => op(x, 0.5), RangeError, new RegExp(`^${name}: dim must be an integer in \\[-2, 1\\] for a 2-d tensor, received 0.5$`));
    rejects(() => op(x, ANY("0")), TypeError, new RegExp(`^${name}: dim must be an integer, received '0'$`));
    rejects(() => op(ANY(xInt), 0), TypeError, new RegExp(`^${name}: x must have dtype 'f32', received 'i32'$`));
    rejects(() => op(ANY(null)), TypeError, new RegExp(`^${name}: x must be a Tensor, received null$`));
    rejects(() => op(x0d), RangeError, new RegExp(`^${name}: x must have at least 1 dimension, received shape \\[\\]$`));
  }
});

test("crossEntropy: targets length or dtype mismatch, targets out of range name the position, bad options", () => {
  const logits = fromArray([[1, 2, 3], [4, 5, 6]]);
  const t01 = i32([0, 1]);
  const t3 = i32([0, 1, 2]);
  const t2x1 = i32([0, 1], [2, 1]);
  const tF32 = fromArray([0, 1]);
  const tHigh = i32([0, 3]);
  const tNeg = i32([-100, 0]);
  const tIgn = i32([-1, 7]);
  const logits1d = fromArray([1, 2, 3]);
  const logitsInt = i32([1, 2], [1, 2]);
  const t0 = i32([0]);
  rejects(() => crossEntropy(logits, t3), RangeError, /^crossEntropy: targets must have shape \[2\] \(one per row of logits \[2, 3\]\), received \[3\]$/);
  rejects(() => crossEntropy(logits, t2x1), RangeError, /^crossEntropy: targets must have shape \[2\] .*received \[2, 1\]$/);
  rejects(() => crossEntropy(logits, ANY(tF32)), TypeError, /^crossEntropy: targets must have dtype 'i32', received 'f32'$/);
  rejects(() => crossEntropy(logits, tHigh), RangeError, /^crossEntropy: targets\[1\] must be a class in \[0, 3\), received 3$/);
  rejects(() => crossEntropy(logits, tNeg), RangeError, /^crossEntropy: targets\[0\] must be a class in \[0, 3\), received -100$/);
  rejects(() => crossEntropy(logits, tIgn, { ignoreIndex: -1 }), RangeError, /^crossEntropy: targets\[1\] must be a class in \[0, 3\) or ignoreIndex \(-1\), received 7$/);
  rejects(() => crossEntropy(logits1d, t0), RangeError, /^crossEntropy: logits must be 2-d, received shape \[3\]$/);
  rejects(() => crossEntropy(ANY(logitsInt), t0), TypeError, /^crossEntropy: logits must have dtype 'f32', received 'i32'$/);
  rejects(() => crossEntropy(logits, t01, ANY({ reduction: "avg" })), RangeError, /^crossEntropy: reduction must be 'mean', 'sum' or 'none', received 'avg'$/);
  rejects(() => crossEntropy(logits, t01, ANY({ reduction: 1 })), TypeError, /^crossEntropy: reduction must be 'mean', 'sum' or 'none', received 1$/);
  rejects(() => crossEntropy(logits, t01, { ignoreIndex: 1.5 }), RangeError, /^crossEntropy: ignoreIndex must be an integer, received 1.5$/);
  rejects(() => crossEntropy(logits, t01, { ignoreIndex: NaN }), RangeError, /^crossEntropy: ignoreIndex must be finite, received NaN$/);
  rejects(() => crossEntropy(logits, t01, ANY({ ignoreIndex: "-1" })), TypeError, /^crossEntropy: ignoreIndex must be a number, received '-1'$/);
  rejects(() => crossEntropy(logits, t01, ANY("mean")), TypeError, /^crossEntropy: opts must be an object, received 'mean'$/);
  rejects(() => crossEntropy(logits, t01, ANY(null)), TypeError, /^crossEntropy: opts must be an object, received null$/);
});

test("concat: empty list, not a list, mismatched shapes, wrong dtype, bad dim, 0-d tensors", () => {
  const a = fromArray([[1, 2], [3, 4]]);
  const wide = fromArray([[1, 2, 3]]);
  const row = fromArray([[1, 2]]);
  const flat = fromArray([1, 2]);
  const ints = i32([1, 2], [1, 2]);
  const s1 = fromArray(1);
  const s2 = fromArray(2);
  rejects(() => concat([]), RangeError, /^concat: tensors must hold at least 1 tensor, received an empty array$/);
  rejects(() => concat(ANY(a)), TypeError, /^concat: tensors must be an array of tensors, received a Tensor$/);
  rejects(() => concat([a, wide], 0), RangeError, /^concat: tensors\[1\] must have shape \[\*, 2\] \(like tensors\[0\] except along dim 0\), received \[1, 3\]$/);
  rejects(() => concat([a, a, row], 1), RangeError, /^concat: tensors\[2\] must have shape \[2, \*\] .*received \[1, 2\]$/);
  rejects(() => concat([a, flat], 0), RangeError, /^concat: tensors\[1\] must have shape \[\*, 2\] .*received \[2\]$/);
  rejects(() => concat([a, ANY(ints)]), TypeError, /^concat: tensors\[1\] must have dtype 'f32', received 'i32'$/);
  rejects(() => concat([a, ANY(7)]), TypeError, /^concat: tensors\[1\] must be a Tensor, received 7$/);
  rejects(() => concat([a, a], 2), RangeError, /^concat: dim must be an integer in \[-2, 1\] for a 2-d tensor, received 2$/);
  rejects(() => concat([s1, s2]), RangeError, /^concat: tensors\[0\] must have at least 1 dimension/);
});
