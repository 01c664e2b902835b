// Neural-network ops of a transformer: token embedding, RMSNorm, softmax / log-softmax, fused
// cross-entropy and a differentiable concat. Each op's forward and backward sit side by side
// (llm.c style): plain loops over Float32Array, reductions accumulated in float64 JS numbers,
// and the per-row statistics the backward needs (rstd, log-sum-exp) saved by the forward so the
// backward does not recompute them. Ops read their inputs again in the backward (the tape keeps
// the inputs alive); they never keep a reference to their output, which the caller may dispose
// before calling backward().
import * as native from "../backend/kernels";
import { Tensor, fillOutput } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { checkDim, formatShape } from "../tensor/shape";
import { isGradEnabled, record } from "../autograd/tape";
import { checkInput, checkNumber, readF32 } from "./util";

/** The element array of an i32 tensor, copying to a contiguous temporary only for a strided view. */
function readI32(t: Tensor): { data: Int32Array; release(): void } {
  if (t.isContiguous()) return { data: t.data() as Int32Array, release() {} };
  const c = t.contiguous();
  return {
    data: c.data() as Int32Array,
    release() {
      c.dispose();
    },
  };
}

function product(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

/** The multi-index of flat position `flat` in `shape`, as "[i, j]" (for error messages). */
function formatIndex(flat: number, shape: readonly number[]): string {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return formatShape(index);
}

// ---------------------------------------------------------------------------------------------
// embedding

/**
 * Looks up rows of `weight` ([V, D]) for every id of `ids` (i32, any shape): the result has
 * shape [...ids.shape, D]. Every id must be in [0, V). Only `weight` gets a gradient: rows of
 * the output gradient are added into a zero [V, D] gradient at their ids (repeated ids sum).
 */
export function embedding(weight: Tensor<"f32">, ids: Tensor<"i32">): Tensor<"f32"> {
  const fn = "embedding";
  checkInput(fn, "weight", weight, "f32", 2);
  checkInput(fn, "ids", ids, "i32");
  const [V, D] = weight.shape;
  const N = ids.numel;
  const idsRead = readI32(ids);
  let saved: Int32Array | null = null;
  let out: Tensor<"f32">;
  try {
    const id = idsRead.data;
    for (let i = 0; i < N; i++) {
      const v = id[i];
      if (v < 0 || v >= V) {
        throw new RangeError(`${fn}: ids must be in [0, ${V}) (the rows of weight ${formatShape(weight.shape)}), received ${v} at position ${formatIndex(i, ids.shape)}`);
      }
    }
    // The caller may dispose or reuse ids before backward(): keep a copy when it will be needed.
    if (weight.requiresGrad && isGradEnabled()) saved = id.slice(0, N);
    const wRead = readF32(weight);
    try {
      const w = wRead.data;
      out = fillOutput(Tensor.empty([...ids.shape, D], "f32", false, fn), (o) => {
        const od = o.data();
        if (N * D >= native.NATIVE_MIN_ELEMENTS && w.length === V * D && id.length === N) native.embeddingForward(w, V, D, id, od);
        else for (let i = 0; i < N; i++) od.set(w.subarray(id[i] * D, id[i] * D + D), i * D);
      });
    } finally {
      wRead.release();
    }
  } finally {
    idsRead.release();
  }
  return record("embedding", out, [weight], (g) => {
    const gRead = readF32(g);
    try {
      const gw = Tensor.empty([V, D], "f32", true, "embedding (backward)");
      const gwd = gw.data();
      const gd = gRead.data;
      const id = saved as Int32Array;
      // The native kernel adds the same float32 values in the same (row) order: identical results.
      if (N * D >= native.NATIVE_MIN_ELEMENTS && gd.length === N * D) native.embeddingBackward(gd, id, V, D, gwd);
      else {
        for (let i = 0; i < N; i++) {
          const dst = id[i] * D;
          const src = i * D;
          for (let k = 0; k < D; k++) gwd[dst + k] += gd[src + k];
        }
      }
      return [gw];
    } finally {
      gRead.release();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// rmsNorm

/**
 * RMSNorm over the last dimension: y = x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + eps)
 * per row. `x` is [..., D]; `weight` is [D], or null for no scale. `eps` must be finite and > 0.
 * The forward saves rstd per row; the backward is
 * dx = rstd * (w*g - x * rstd^2 * mean(w*g*x)), dweight = sum over rows of g * x * rstd.
 */
export function rmsNorm(x: Tensor<"f32">, weight: Tensor<"f32"> | null = null, eps = 1e-5): Tensor<"f32"> {
  const fn = "rmsNorm";
  checkInput(fn, "x", x);
  if (x.ndim === 0) throw new RangeError(`${fn}: x must have at least 1 dimension (the one normalised), received shape []`);
  const D = x.shape[x.ndim - 1];
  if (weight !== null && weight !== undefined) {
    checkInput(fn, "weight", weight);
    if (weight.ndim !== 1 || weight.shape[0] !== D) {
      throw new RangeError(`${fn}: weight must have shape [${D}] (the last dimension of x), received ${formatShape(weight.shape)}`);
    }
  }
  checkNumber(fn, "eps", eps);
  if (!(eps > 0)) throw new RangeError(`${fn}: eps must be > 0, received ${eps}`);
  const w = weight ?? null;
  const rows = product(x.shape, 0, x.ndim - 1);
  // Native kernels (cpu/norm): row sums in float64, the weight gradient summed over fixed row
  // chunks so it does not depend on the thread count.
  const rstd = new Float32Array(rows);
  const xc = x.isContiguous() ? x : x.contiguous();
  const wc = w === null ? null : w.isContiguous() ? w : w.contiguous();
  const out = Tensor.empty(x.shape, "f32", false, fn);
  try {
    native.rmsNormForward(xc.data(), wc === null ? null : wc.data(), rows, D, eps, out.data(), rstd);
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    if (xc !== x) xc.dispose();
    if (wc !== null && wc !== w) wc.dispose();
  }
  const inputs = w === null ? [x] : [x, w];
  return record("rmsNorm", out, inputs, (g) => {
    const needX = x.requiresGrad;
    const needW = w !== null && w.requiresGrad;
    const temps: Tensor[] = [];
    const contiguous = (t: Tensor<"f32">): Tensor<"f32"> => {
      if (t.isContiguous()) return t;
      const c = t.contiguous();
      temps.push(c);
      return c;
    };
    const dx = needX ? Tensor.empty(x.shape, "f32", false, "rmsNorm (backward)") : null;
    const dw = needW ? Tensor.empty([D], "f32", false, "rmsNorm (backward)") : null;
    try {
      native.rmsNormBackward(contiguous(g).data(), contiguous(x).data(), w === null ? null : contiguous(w).data(), rstd, rows, D,
        dx === null ? null : dx.data(), dw === null ? null : dw.data());
    } catch (e) {
      dx?.dispose();
      dw?.dispose();
      throw e;
    } finally {
      for (const t of temps) t.dispose();
    }
    return w === null ? [dx] : [dx, dw];
  });
}

// ---------------------------------------------------------------------------------------------
// softmax and logSoftmax
//
// Both view x as [outer, n, inner] with n the size of `dim`, so any dim is handled in place
// without a transposed copy: inner == 1 (the last dim) is the fast path of contiguous rows;
// otherwise the row statistics of `inner` interleaved rows are kept side by side in float64
// buffers, so memory is still walked in order. The forward saves the log-sum-exp of every row
// (float64: an f32 lse of logits near 1000 would be off by 6e-5); the backward recomputes the
// probabilities as exp(x - lse) from x rather than keeping the output alive.

function checkSoftmaxArgs(fn: string, x: Tensor<"f32">, dim: number): [number, number, number, number] {
  checkInput(fn, "x", x);
  if (x.ndim === 0) throw new RangeError(`${fn}: x must have at least 1 dimension, received shape []`);
  const d = checkDim(dim, x.ndim, fn);
  return [d, product(x.shape, 0, d), x.shape[d], product(x.shape, d + 1, x.ndim)];
}

/** Writes softmax (or log-softmax) of x into y and the log-sum-exp of every row into lse. */
function softmaxForward(xd: Float32Array, yd: Float32Array, lse: Float64Array, outer: number, n: number, inner: number, log: boolean): void {
  if (inner === 1) {
    for (let r = 0; r < outer; r++) {
      const base = r * n;
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const v = xd[base + j];
        if (v > m) m = v;
      }
      // NaN or +Infinity make the sum NaN (Infinity - Infinity), so the whole row is NaN.
      let s = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(xd[base + j] - m);
        s += e;
        yd[base + j] = e;
      }
      const l = m + Math.log(s);
      lse[r] = l;
      if (log) {
        for (let j = 0; j < n; j++) yd[base + j] = xd[base + j] - l;
      } else {
        const inv = 1 / s;
        for (let j = 0; j < n; j++) yd[base + j] *= inv;
      }
    }
    return;
  }
  const mx = new Float64Array(inner);
  const sm = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    mx.fill(-Infinity);
    sm.fill(0);
    for (let j = 0; j < n; j++) {
      const row = base + j * inner;
      for (let i = 0; i < inner; i++) {
        const v = xd[row + i];
        if (v > mx[i]) mx[i] = v;
      }
    }
    for (let j = 0; j < n; j++) {
      const row = base + j * inner;
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(xd[row + i] - mx[i]);
        sm[i] += e;
        yd[row + i] = e;
      }
    }
    const lo = o * inner;
    for (let i = 0; i < inner; i++) lse[lo + i] = mx[i] + Math.log(sm[i]);
    if (log) {
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) yd[row + i] = xd[row + i] - lse[lo + i];
      }
    } else {
      for (let i = 0; i < inner; i++) sm[i] = 1 / sm[i];
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) yd[row + i] *= sm[i];
      }
    }
  }
}

/**
 * dx from g, with p = exp(x - lse): softmax dx = p * (g - sum(g * p)); log-softmax
 * dx = g - p * sum(g).
 */
function softmaxBackward(xd: Float32Array, gd: Float32Array, dx: Float32Array, lse: Float64Array, outer: number, n: number, inner: number, log: boolean): void {
  if (inner === 1) {
    for (let r = 0; r < outer; r++) {
      const base = r * n;
      const l = lse[r];
      let acc = 0;
      if (log) {
        for (let j = 0; j < n; j++) acc += gd[base + j];
        for (let j = 0; j < n; j++) dx[base + j] = gd[base + j] - Math.exp(xd[base + j] - l) * acc;
      } else {
        for (let j = 0; j < n; j++) {
          const p = Math.exp(xd[base + j] - l);
          dx[base + j] = p;
          acc += gd[base + j] * p;
        }
        for (let j = 0; j < n; j++) dx[base + j] *= gd[base + j] - acc;
      }
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const lo = o * inner;
    acc.fill(0);
    if (log) {
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) acc[i] += gd[row + i];
      }
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) dx[row + i] = gd[row + i] - Math.exp(xd[row + i] - lse[lo + i]) * acc[i];
      }
    } else {
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) {
          const p = Math.exp(xd[row + i] - lse[lo + i]);
          dx[row + i] = p;
          acc[i] += gd[row + i] * p;
        }
      }
      for (let j = 0; j < n; j++) {
        const row = base + j * inner;
        for (let i = 0; i < inner; i++) dx[row + i] *= gd[row + i] - acc[i];
      }
    }
  }
}

function softmaxOp(fn: string, x: Tensor<"f32">, dim: number, log: boolean): Tensor<"f32"> {
  const [, outer, n, inner] = checkSoftmaxArgs(fn, x, dim);
  const lse = new Float64Array(outer * inner);
  const xRead = readF32(x);
  let out: Tensor<"f32">;
  try {
    out = fillOutput(Tensor.empty(x.shape, "f32", false, fn), (o) => softmaxForward(xRead.data, o.data(), lse, outer, n, inner, log));
  } finally {
    xRead.release();
  }
  return record(fn, out, [x], (g) => {
    const gRead = readF32(g);
    const xRead = readF32(x);
    try {
      const dx = Tensor.empty(x.shape, "f32", false, `${fn} (backward)`);
      softmaxBackward(xRead.data, gRead.data, dx.data(), lse, outer, n, inner, log);
      return [dx];
    } finally {
      gRead.release();
      xRead.release();
    }
  });
}

/**
 * Softmax along `dim` (default the last): y = exp(x - max) / sum(exp(x - max)), numerically
 * stable for any magnitude of x. A row holding NaN or +Infinity gives NaN.
 */
export function softmax(x: Tensor<"f32">, dim = -1): Tensor<"f32"> {
  return softmaxOp("softmax", x, dim, false);
}

/**
 * Log-softmax along `dim` (default the last): y = x - max - log(sum(exp(x - max))), numerically
 * stable (no exp overflows, no log of an underflowed probability).
 */
export function logSoftmax(x: Tensor<"f32">, dim = -1): Tensor<"f32"> {
  return softmaxOp("logSoftmax", x, dim, true);
}

// ---------------------------------------------------------------------------------------------
// crossEntropy

/** Options of crossEntropy. */
export interface CrossEntropyOptions {
  /** "mean" over the targets not ignored (default), "sum", or "none" (the loss of every row). */
  reduction?: "mean" | "sum" | "none";
  /** A target value whose rows add nothing to the loss nor to the count (default: none). */
  ignoreIndex?: number;
}

/**
 * Cross-entropy of `logits` ([N, V]) against class ids `targets` (i32 [N]), fused:
 * loss_i = logsumexp(logits_i) - logits_i[targets_i], with the max subtracted and the sum in
 * float64. Returns a 0-d tensor for "mean" (over the rows whose target is not `ignoreIndex`;
 * NaN when every row is ignored) and "sum", or [N] for "none" (0 on ignored rows). A row with a
 * NaN or infinite logit has a NaN loss (no throw: training loops check the loss). Backward:
 * dlogits_i = (softmax(logits_i) - onehot(targets_i)) * g_i (g / count for "mean").
 */
export function crossEntropy(logits: Tensor<"f32">, targets: Tensor<"i32">, opts?: CrossEntropyOptions): Tensor<"f32"> {
  const fn = "crossEntropy";
  checkInput(fn, "logits", logits, "f32", 2);
  checkInput(fn, "targets", targets, "i32");
  const [N, V] = logits.shape;
  if (targets.ndim !== 1 || targets.shape[0] !== N) {
    throw new RangeError(`${fn}: targets must have shape [${N}] (one per row of logits ${formatShape(logits.shape)}), received ${formatShape(targets.shape)}`);
  }
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  }
  const reduction = opts?.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") {
    const Err = typeof reduction === "string" ? RangeError : TypeError;
    throw new Err(`${fn}: reduction must be 'mean', 'sum' or 'none', received ${describe(reduction)}`);
  }
  const ignore = opts?.ignoreIndex;
  if (ignore !== undefined) {
    checkNumber(fn, "ignoreIndex", ignore);
    if (!Number.isInteger(ignore)) throw new RangeError(`${fn}: ignoreIndex must be an integer, received ${ignore}`);
  }
  // NaN never equals a target, so "no ignoreIndex" needs no branch in the loops.
  const ig = ignore ?? NaN;
  const tRead = readI32(targets);
  let tg: Int32Array;
  try {
    const t = tRead.data;
    for (let i = 0; i < N; i++) {
      const v = t[i];
      if (v !== ig && (v < 0 || v >= V)) {
        const allowed = ignore === undefined ? "" : ` or ignoreIndex (${ignore})`;
        throw new RangeError(`${fn}: targets[${i}] must be a class in [0, ${V})${allowed}, received ${v}`);
      }
    }
    // Copied: the backward needs them and the caller may reuse the targets tensor.
    tg = t.slice(0, N);
  } finally {
    tRead.release();
  }
  // Native kernels (cpu/norm): float64 per row, rows split over threads; the total is summed
  // here in row order, so it does not depend on the thread count.
  const lse = new Float64Array(N);
  const rowLoss = new Float64Array(N);
  const ignoreIndex = ignore ?? null;
  const lc = logits.isContiguous() ? logits : logits.contiguous();
  try {
    native.crossEntropyForward(lc.data(), N, V, tg, ignoreIndex, lse, rowLoss);
  } finally {
    if (lc !== logits) lc.dispose();
  }
  let count = 0;
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (tg[i] === ig) continue;
    total += rowLoss[i];
    count++;
  }
  let out: Tensor<"f32">;
  if (reduction === "none") {
    out = Tensor.empty([N], "f32", false, fn);
    out.data().set(rowLoss);
  } else {
    out = Tensor.empty([], "f32", false, fn);
    out.data()[0] = reduction === "mean" ? total / count : total;
  }
  return record("crossEntropy", out, [logits], (g) => {
    const gRead = readF32(g);
    const xc = logits.isContiguous() ? logits : logits.contiguous();
    try {
      const gd = gRead.data;
      const scale = reduction === "none" ? Float64Array.from(gd) : Float64Array.of(reduction === "mean" ? gd[0] / count : gd[0]);
      const dx = Tensor.empty([N, V], "f32", false, "crossEntropy (backward)");
      native.crossEntropyBackward(xc.data(), N, V, tg, ignoreIndex, lse, scale, dx.data());
      return [dx];
    } finally {
      gRead.release();
      if (xc !== logits) xc.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// concat

/**
 * Joins f32 tensors along `dim` (default 0), differentiably: every input gets its slice of the
 * output gradient. All inputs need the same number of dimensions (at least 1) and equal sizes
 * except along `dim`. (The `concat` of the tensor module joins any dtype but is not on the tape.)
 */
export function concat(tensors: readonly Tensor<"f32">[], dim = 0): Tensor<"f32"> {
  const fn = "concat";
  if (!Array.isArray(tensors as unknown)) throw new TypeError(`${fn}: tensors must be an array of tensors, received ${describe(tensors)}`);
  if (tensors.length === 0) throw new RangeError(`${fn}: tensors must hold at least 1 tensor, received an empty array`);
  tensors.forEach((t, i) => checkInput(fn, `tensors[${i}]`, t));
  const first = tensors[0];
  if (first.ndim === 0) throw new RangeError(`${fn}: tensors[0] must have at least 1 dimension, received shape []; reshape to [1] first`);
  const d = checkDim(dim, first.ndim, fn);
  const sizes: number[] = [];
  let total = 0;
  tensors.forEach((t, i) => {
    const same = t.ndim === first.ndim && t.shape.every((s, k) => k === d || s === first.shape[k]);
    if (!same) {
      const expected = first.shape.map((s, k) => (k === d ? "*" : String(s))).join(", ");
      throw new RangeError(`${fn}: tensors[${i}] must have shape [${expected}] (like tensors[0] except along dim ${d}), received ${formatShape(t.shape)}`);
    }
    sizes.push(t.shape[d]);
    total += t.shape[d];
  });
  const inputs = tensors.slice();
  const outer = product(first.shape, 0, d);
  const inner = product(first.shape, d + 1, first.ndim);
  const outRow = total * inner;
  const shape = first.shape.slice();
  shape[d] = total;
  const out = fillOutput(Tensor.empty(shape, "f32", false, fn), (o) => {
    const od = o.data();
    let at = 0;
    for (let k = 0; k < inputs.length; k++) {
      const blk = sizes[k] * inner;
      const src = readF32(inputs[k]);
      try {
        const sd = src.data;
        for (let r = 0; r < outer; r++) od.set(sd.subarray(r * blk, (r + 1) * blk), r * outRow + at);
      } finally {
        src.release();
      }
      at += blk;
    }
  });
  return record("concat", out, inputs, (g) => {
    const gRead = readF32(g);
    try {
      const gd = gRead.data;
      const grads: (Tensor<"f32"> | null)[] = [];
      let at = 0;
      for (let k = 0; k < inputs.length; k++) {
        const blk = sizes[k] * inner;
        if (inputs[k].requiresGrad) {
          const gk = Tensor.empty(inputs[k].shape, "f32", false, "concat (backward)");
          const gkd = gk.data();
          for (let r = 0; r < outer; r++) gkd.set(gd.subarray(r * outRow + at, r * outRow + at + blk), r * blk);
          grads.push(gk);
        } else {
          grads.push(null);
        }
        at += blk;
      }
      return grads;
    } finally {
      gRead.release();
    }
  });
}
