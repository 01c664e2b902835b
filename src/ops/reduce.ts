// Reductions: sum, mean (over any set of dimensions) and max (over one). Forward sums use
// float64 accumulators so long reductions do not drift; backward broadcasts g back.
import { Tensor, fillOutput } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { checkDim, contiguousStrides, numelOf } from "../tensor/shape";
import { record } from "../autograd/tape";
import { checkInput, readF32 } from "./util";

/** Options of {@link sum}, {@link mean} and {@link max}. */
export interface ReduceOptions {
  /** Keep reduced dimensions as size 1 (default false: they are removed). */
  keepDim?: boolean;
}

function keepDimOf(fn: string, opts: unknown): boolean {
  if (opts === undefined) return false;
  if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object { keepDim?: boolean }, received ${describe(opts)}`);
  const k = (opts as ReduceOptions).keepDim;
  if (k === undefined) return false;
  if (typeof k !== "boolean") throw new TypeError(`${fn}: opts.keepDim must be a boolean, received ${describe(k)}`);
  return k;
}

/** Which dimensions of an `ndim`-d tensor `dims` names (all when undefined). */
function reducedFlags(fn: string, ndim: number, dims: unknown): boolean[] {
  const flags = new Array<boolean>(ndim).fill(dims === undefined);
  if (dims === undefined) return flags;
  const single = typeof dims === "number";
  if (!single && !Array.isArray(dims)) throw new TypeError(`${fn}: dims must be an integer or an array of integers, received ${describe(dims)}`);
  const list: unknown[] = single ? [dims] : (dims as unknown[]);
  for (let i = 0; i < list.length; i++) {
    const d = checkDim(list[i], ndim, fn, single ? "dims" : `dims[${i}]`);
    if (flags[d]) throw new RangeError(`${fn}: dims must not repeat a dimension, received [${list.join(", ")}] (dimension ${d} appears twice)`);
    flags[d] = true;
  }
  return flags;
}

/**
 * The iteration a reduction needs. Size-1 dimensions are dropped and neighbours of the same
 * kind merged, so most reductions become one block: x seen as [outer, red, inner] and the
 * output as [outer, inner]. What remains (several separate reduced blocks) uses `sizes`/`kinds`
 * with an odometer.
 */
interface ReducePlan {
  outShape: number[];
  /** Elements summed into each output element. */
  count: number;
  block: boolean;
  outer: number;
  red: number;
  inner: number;
  sizes: number[];
  reducedGroup: boolean[];
}

function planReduction(shape: readonly number[], flags: readonly boolean[], keepDim: boolean): ReducePlan {
  const outShape: number[] = [];
  let count = 1;
  const sizes: number[] = [];
  const reducedGroup: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (flags[i]) count *= shape[i];
    if (!flags[i] || keepDim) outShape.push(flags[i] ? 1 : shape[i]);
    if (shape[i] === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && reducedGroup[last] === flags[i]) sizes[last] *= shape[i];
    else {
      sizes.push(shape[i]);
      reducedGroup.push(flags[i]);
    }
  }
  let reducedGroups = 0;
  for (const r of reducedGroup) if (r) reducedGroups++;
  let outer = 1;
  let red = 1;
  let inner = 1;
  let seen = false;
  for (let g = 0; g < sizes.length; g++) {
    if (reducedGroup[g]) {
      red = sizes[g];
      seen = true;
    } else if (seen) inner *= sizes[g];
    else outer *= sizes[g];
  }
  return { outShape, count, block: reducedGroups <= 1, outer, red, inner, sizes, reducedGroup };
}

/** Strides into the output for each group of the plan: 0 on reduced groups. */
function outStrides(plan: ReducePlan): number[] {
  const kept = plan.sizes.filter((_, g) => !plan.reducedGroup[g]);
  const ks = contiguousStrides(kept);
  const strides: number[] = [];
  let k = 0;
  for (let g = 0; g < plan.sizes.length; g++) strides.push(plan.reducedGroup[g] ? 0 : ks[k++]);
  return strides;
}

/** o = (sums of x over the plan's reduced dimensions) / divisor, accumulated in float64. */
function sumKernel(x: Float32Array, o: Float32Array, plan: ReducePlan, divisor: number): void {
  if (plan.block) {
    const { outer, red, inner } = plan;
    if (inner === 1) {
      for (let r = 0; r < outer; r++) {
        let acc = 0;
        const end = (r + 1) * red;
        for (let k = r * red; k < end; k++) acc += x[k];
        o[r] = acc / divisor;
      }
      return;
    }
    const acc = new Float64Array(inner);
    for (let r = 0; r < outer; r++) {
      acc.fill(0);
      for (let k = 0; k < red; k++) {
        const base = (r * red + k) * inner;
        for (let i = 0; i < inner; i++) acc[i] += x[base + i];
      }
      const ob = r * inner;
      for (let i = 0; i < inner; i++) o[ob + i] = acc[i] / divisor;
    }
    return;
  }
  // Several reduced blocks: odometer over the groups, strided accumulation into float64.
  const { sizes } = plan;
  const os = outStrides(plan);
  const n = sizes.length;
  const acc = new Float64Array(o.length);
  const total = x.length;
  const last = sizes[n - 1];
  const sl = os[n - 1];
  const idx = new Array<number>(n).fill(0);
  let io = 0;
  for (let base = 0; base < total; base += last) {
    for (let j = 0; j < last; j++) acc[io + j * sl] += x[base + j];
    for (let d = n - 2; d >= 0; d--) {
      idx[d]++;
      io += os[d];
      if (idx[d] < sizes[d]) break;
      io -= os[d] * sizes[d];
      idx[d] = 0;
    }
  }
  for (let i = 0; i < o.length; i++) o[i] = acc[i] / divisor;
}

/** gx = g broadcast back over the plan's reduced dimensions, times `factor`. */
function broadcastKernel(g: Float32Array, gx: Float32Array, plan: ReducePlan, factor: number): void {
  if (plan.block) {
    const { outer, red, inner } = plan;
    for (let r = 0; r < outer; r++) {
      const ob = r * inner;
      for (let k = 0; k < red; k++) {
        const base = (r * red + k) * inner;
        for (let i = 0; i < inner; i++) gx[base + i] = g[ob + i] * factor;
      }
    }
    return;
  }
  const { sizes } = plan;
  const os = outStrides(plan);
  const n = sizes.length;
  const total = gx.length;
  const last = sizes[n - 1];
  const sl = os[n - 1];
  const idx = new Array<number>(n).fill(0);
  let io = 0;
  for (let base = 0; base < total; base += last) {
    for (let j = 0; j < last; j++) gx[base + j] = g[io + j * sl] * factor;
    for (let d = n - 2; d >= 0; d--) {
      idx[d]++;
      io += os[d];
      if (idx[d] < sizes[d]) break;
      io -= os[d] * sizes[d];
      idx[d] = 0;
    }
  }
}

function reduceSum(fn: string, x: Tensor<"f32">, dims: unknown, opts: unknown, isMean: boolean): Tensor<"f32"> {
  checkInput(fn, "x", x);
  const flags = reducedFlags(fn, x.ndim, dims);
  const keepDim = keepDimOf(fn, opts);
  const plan = planReduction(x.shape, flags, keepDim);
  // A mean over zero elements is 0/0 = NaN, as in NumPy and PyTorch.
  const divisor = isMean ? plan.count : 1;
  const xr = readF32(x);
  let out: Tensor<"f32">;
  try {
    out = fillOutput(Tensor.empty(plan.outShape, "f32", false, fn), (t) => sumKernel(xr.data, t.data(), plan, divisor));
  } finally {
    xr.release();
  }
  return record(fn, out, [x], (g) => {
    const gx = Tensor.empty(x.shape, "f32", false, `${fn} (backward)`);
    const gr = readF32(g);
    broadcastKernel(gr.data, gx.data(), plan, 1 / divisor);
    gr.release();
    return [gx];
  });
}

/**
 * Sum of the elements of x over `dims` (an integer or a list; negative values count from the
 * end; default: all dimensions). Reduced dimensions are removed, or kept as size 1 with
 * `keepDim`. A sum over all dimensions has shape [] (one element). `dims = []` reduces
 * nothing (a copy), as in NumPy. Accumulates in float64. Gradient: g broadcast back.
 */
export function sum(x: Tensor<"f32">, dims?: number | readonly number[], opts?: ReduceOptions): Tensor<"f32"> {
  return reduceSum("sum", x, dims, opts, false);
}

/**
 * Mean of the elements of x over `dims`; same arguments and shapes as {@link sum}. A mean over
 * zero elements is NaN. Gradient: g / count broadcast back.
 */
export function mean(x: Tensor<"f32">, dims?: number | readonly number[], opts?: ReduceOptions): Tensor<"f32"> {
  return reduceSum("mean", x, dims, opts, true);
}

/**
 * Largest element of x along dimension `dim` (negative counts from the end), which is removed
 * (or kept as size 1 with `keepDim`). NaN wins over numbers, like PyTorch. The gradient goes
 * to the position of the maximum only (the first one on ties).
 */
export function max(x: Tensor<"f32">, dim: number, opts?: ReduceOptions): Tensor<"f32"> {
  checkInput("max", "x", x);
  const d = checkDim(dim, x.ndim, "max");
  const keepDim = keepDimOf("max", opts);
  const size = x.shape[d];
  if (size === 0) throw new RangeError(`max: dimension ${d} of x has size 0 (shape [${x.shape.join(", ")}]), which has no maximum`);
  const outer = numelOf(x.shape.slice(0, d));
  const inner = numelOf(x.shape.slice(d + 1));
  const outShape = x.shape.slice();
  if (keepDim) outShape[d] = 1;
  else outShape.splice(d, 1);
  const arg = new Int32Array(outer * inner);
  const xr = readF32(x);
  let out: Tensor<"f32">;
  try {
    out = fillOutput(Tensor.empty(outShape, "f32", false, "max"), (t) => {
      const o = t.data();
      const v = xr.data;
      for (let r = 0; r < outer; r++) {
        const base = r * size * inner;
        const ob = r * inner;
        for (let i = 0; i < inner; i++) {
          o[ob + i] = v[base + i];
          arg[ob + i] = 0;
        }
        for (let k = 1; k < size; k++) {
          const kb = base + k * inner;
          for (let i = 0; i < inner; i++) {
            const e = v[kb + i];
            const b = o[ob + i];
            // Strictly greater keeps the first maximum; a NaN replaces any number and then stays.
            if (e > b || (e !== e && b === b)) {
              o[ob + i] = e;
              arg[ob + i] = k;
            }
          }
        }
      }
    });
  } finally {
    xr.release();
  }
  return record("max", out, [x], (g) => {
    const gx = Tensor.empty(x.shape, "f32", true, "max (backward)");
    const d2 = gx.data();
    const gr = readF32(g);
    const gd = gr.data;
    for (let r = 0; r < outer; r++) {
      const base = r * size * inner;
      const ob = r * inner;
      for (let i = 0; i < inner; i++) d2[base + arg[ob + i] * inner + i] = gd[ob + i];
    }
    gr.release();
    return [gx];
  });
}
