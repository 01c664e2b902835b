// BitNet b1.58 quantization and packed ternary matrix products.
//
// quantizeActivationsInt8 / quantizeWeightsTernary are bit-exact with the recipe's PyTorch
// formulas in float32 (round half to even). packTernary writes the interchange layouts (I2_S,
// Hugging Face) and the kernels' own "tl256" layout; ternaryMatmul runs on tl256 and repacks
// other layouts once, caching the result on the PackedTernary.
import * as native from "../backend/kernels";
import { renameFunction } from "../validate";
import type { TernaryLayout, WeightScaleMode } from "../backend/kernels";

export type { TernaryLayout, WeightScaleMode };
import { describe } from "../tensor/dtype";
import { Tensor } from "../tensor/tensor";

/** Padded row length of the int8 activations the kernels read (a multiple of 256). */
export function paddedCols(cols: number): number {
  return Math.ceil(cols / 256) * 256;
}

function checkTensor(t: unknown, fn: string, arg: string, dtype: string, ndim: number): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: ${arg} must be a Tensor, received ${describe(t)}`);
  if (t.disposed) throw new Error(`${fn}: ${arg} was disposed`);
  if (t.dtype !== dtype) throw new TypeError(`${fn}: ${arg} must have dtype '${dtype}', received '${t.dtype}'`);
  if (t.ndim !== ndim) throw new RangeError(`${fn}: ${arg} must be ${ndim}-d, received shape [${t.shape.join(", ")}]`);
}

/** Per-token int8 activations: rows padded to paddedCols(K) with zeros. */
export interface QuantizedActivations {
  /** [M, K] int8 view of the padded rows. */
  readonly values: Tensor<"i8">;
  /** [M, paddedCols(K)] int8 rows as the kernels read them. */
  readonly padded: Tensor<"i8">;
  /** [M] s = 127 / max(max|x|, 1e-5): x ~= values / s. */
  readonly scales: Tensor<"f32">;
  /** [M] sum of each row's int8 values. */
  readonly sums: Tensor<"i32">;
  dispose(): void;
}

/**
 * Quantizes activations per token (row): s = 127 / max(max|x|, 1e-5), q = clamp(round(x * s),
 * -128, 127). x is [M, K] float32 (a 1-d x is one row). NaN or infinity is a RangeError.
 * `opts.into` reuses the buffers of an earlier result of the same shape (a decode loop
 * quantizes every layer's input each token; reusing saves the allocations) and returns it.
 */
export function quantizeActivationsInt8(x: Tensor<"f32">, opts?: { into?: QuantizedActivations }): QuantizedActivations {
  const fn = "quantizeActivationsInt8";
  if (x instanceof Tensor && x.ndim === 1) {
    const row = x.reshape([1, x.shape[0]]);
    try {
      return quantizeActivationsInt8(row, opts);
    } finally {
      row.dispose();
    }
  }
  checkTensor(x, fn, "x", "f32", 2);
  const [m, k] = x.shape;
  const xc = x.isContiguous() ? x : x.contiguous();
  const kp = paddedCols(k);
  const into = opts?.into;
  if (into !== undefined) {
    try {
      if (into === null || typeof into !== "object" || !(into.padded instanceof Tensor) || into.padded.disposed) {
        throw new TypeError(`${fn}: into must be a live QuantizedActivations, received ${describe(into)}`);
      }
      if (into.values.shape[0] !== m || into.values.shape[1] !== k) {
        throw new RangeError(`${fn}: into holds [${into.values.shape.join(", ")}] activations, x is [${m}, ${k}]`);
      }
      native.quantizeActivationsInt8(xc.data(), m, k, into.padded.data(), into.scales.data(), into.sums.data());
      return into;
    } catch (e) {
      throw renameFunction(e, fn);
    } finally {
      if (xc !== x) xc.dispose();
    }
  }
  // One allocation holds the rows, the scales and the sums (per-token quantization runs once a
  // layer per token in decode, so each allocation saved is visible).
  const scalesAt = Math.ceil((m * kp) / 64) * 64;
  const block = Tensor.empty([scalesAt + 8 * m], "u8", false, fn);
  const padded = new Tensor(block.storage, "i8", [m, kp], undefined, block.offset);
  const scales = new Tensor(block.storage, "f32", [m], undefined, scalesAt / 4);
  const sums = new Tensor(block.storage, "i32", [m], undefined, scalesAt / 4 + m);
  block.dispose();
  try {
    native.quantizeActivationsInt8(xc.data(), m, k, padded.data(), scales.data(), sums.data());
  } catch (e) {
    padded.dispose();
    scales.dispose();
    sums.dispose();
    throw renameFunction(e, fn);
  } finally {
    if (xc !== x) xc.dispose();
  }
  const values = padded.slice(1, 0, k);
  return {
    values,
    padded,
    scales,
    sums,
    dispose() {
      values.dispose();
      padded.dispose();
      scales.dispose();
      sums.dispose();
    },
  };
}

/** Ternary weights with their absmean scales. */
export interface TernaryWeights {
  /** [N, K] int8 values in {-1, 0, +1}. */
  readonly codes: Tensor<"i8">;
  /** Scales: [1] per tensor, [N] per channel, [N, ceil(K/128)] per group; w ~= codes * s. */
  readonly scales: Tensor<"f32">;
  readonly mode: WeightScaleMode;
  dispose(): void;
}

/**
 * Absmean ternary quantization: s = max(mean|W|, 1e-5) over the scale's span (the whole tensor
 * by default), codes = clamp(round(W / s), -1, 1). The mean is accumulated in float64 in a fixed
 * order, so results do not depend on the thread count.
 */
export function quantizeWeightsTernary(w: Tensor<"f32">, opts?: { mode?: WeightScaleMode }): TernaryWeights {
  const fn = "quantizeWeightsTernary";
  checkTensor(w, fn, "w", "f32", 2);
  const mode = opts?.mode ?? "tensor";
  if (mode !== "tensor" && mode !== "channel" && mode !== "group128") {
    throw new RangeError(`${fn}: mode must be one of 'tensor', 'channel', 'group128', received ${describe(mode)}`);
  }
  const [n, k] = w.shape;
  const scaleShape = mode === "tensor" ? [1] : mode === "channel" ? [n] : [n, Math.ceil(k / 128)];
  const wc = w.contiguous();
  const codes = Tensor.empty([n, k], "i8");
  const scales = Tensor.empty(scaleShape, "f32");
  try {
    native.quantizeWeightsTernary(wc.data(), n, k, mode, codes.data(), scales.data());
  } catch (e) {
    codes.dispose();
    scales.dispose();
    throw e;
  } finally {
    wc.dispose();
  }
  return {
    codes,
    scales,
    mode,
    dispose() {
      codes.dispose();
      scales.dispose();
    },
  };
}

/** A packed ternary weight matrix [N, K] with its scale(s). */
export class PackedTernary {
  #tl256: PackedTernary | undefined;

  /** Internal: use packTernary(). */
  constructor(
    readonly layout: TernaryLayout,
    readonly shape: readonly [number, number],
    /** Packed bytes in `layout`. */
    readonly data: Tensor<"u8">,
    /** [1] per-tensor or [N] per-output-row scale: w = code_value * scale. */
    readonly scale: Tensor<"f32">,
  ) {}

  /** The same weights in the kernels' tl256 layout (this object when already tl256; cached). */
  kernelLayout(): PackedTernary {
    if (this.layout === "tl256") return this;
    if (!this.#tl256) {
      const codes = unpackTernary(this);
      try {
        this.#tl256 = packTernary(codes, { layout: "tl256", scale: this.scale });
      } finally {
        codes.dispose();
      }
    }
    return this.#tl256;
  }

  dispose(): void {
    this.data.dispose();
    this.scale.dispose();
    this.#tl256?.dispose();
    this.#tl256 = undefined;
  }
}

/**
 * The byte offset of the first invalid 2-bit code (3) in packed ternary bytes, or -1. Every
 * layout stores codes 0, 1, 2 in 2-bit fields, so this checks any of them without unpacking (no
 * allocation: a loader checks a memory-mapped file in place).
 */
export function findInvalidTernaryCode(bytes: Uint8Array): number {
  // A field holds 3 when both its bits are set: (b & (b >> 1)) has a bit at an even position.
  const head = (4 - (bytes.byteOffset % 4)) % 4;
  const scanBytes = (from: number, to: number): number => {
    for (let i = from; i < to; i++) if ((bytes[i] & (bytes[i] >> 1) & 0x55) !== 0) return i;
    return -1;
  };
  const first = scanBytes(0, Math.min(head, bytes.length));
  if (first >= 0 || head >= bytes.length) return first;
  const words = Math.floor((bytes.length - head) / 4);
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset + head, words);
  for (let i = 0; i < words; i++) {
    const x = w[i];
    if ((x & (x >>> 1) & 0x55555555) !== 0) return scanBytes(head + 4 * i, head + 4 * i + 4);
  }
  return scanBytes(head + 4 * words, bytes.length);
}

const LAYOUTS: readonly TernaryLayout[] = ["tl256", "i2s", "hf"];

/** Bytes of packed data for an [n, k] matrix. */
export function packedTernaryBytes(layout: TernaryLayout, n: number, k: number): number {
  return layout === "tl256" ? Math.ceil(n / 4) * 4 * (paddedCols(k) / 4) : layout === "i2s" ? (n * k) / 4 : (n / 4) * k;
}

/**
 * Packs ternary values [N, K] (int8 in {-1, 0, +1}, or a TernaryWeights' codes) at 2 bits a
 * weight. `scale` is a number, a [1] or [N] tensor (copied), or taken from TernaryWeights.
 */
export function packTernary(
  w: Tensor<"i8"> | TernaryWeights,
  opts?: { layout?: TernaryLayout; scale?: number | Tensor<"f32"> },
): PackedTernary {
  const fn = "packTernary";
  const weights = w instanceof Tensor ? undefined : (w as TernaryWeights);
  const codes = weights ? weights.codes : (w as Tensor<"i8">);
  checkTensor(codes, fn, "w", "i8", 2);
  const layout = opts?.layout ?? "tl256";
  if (!LAYOUTS.includes(layout)) throw new RangeError(`${fn}: layout must be one of 'tl256', 'i2s', 'hf', received ${describe(layout)}`);
  const [n, k] = codes.shape;
  let scale: Tensor<"f32">;
  const given = opts?.scale ?? weights?.scales ?? 1;
  if (typeof given === "number") {
    if (!(Number.isFinite(given) && given > 0)) throw new RangeError(`${fn}: scale must be a finite positive number, received ${given}`);
    scale = Tensor.empty([1], "f32");
    scale.data()[0] = given;
  } else {
    if (!(given instanceof Tensor) || given.dtype !== "f32") throw new TypeError(`${fn}: scale must be a number or an f32 Tensor, received ${describe(given)}`);
    if (given.numel !== 1 && !(given.ndim === 1 && given.shape[0] === n)) {
      throw new RangeError(`${fn}: scale must have 1 element or shape [${n}] (one per output row), received shape [${given.shape.join(", ")}]`);
    }
    // A private copy: the caller may dispose or change its tensor.
    scale = Tensor.empty([given.numel], "f32");
    scale.data().set(given.toFloat32Array());
  }
  const cc = codes.contiguous();
  const data = Tensor.empty([packedTernaryBytes(layout, n, k)], "u8");
  try {
    native.packTernary(cc.data(), n, k, layout, data.data());
  } catch (e) {
    data.dispose();
    scale.dispose();
    throw e;
  } finally {
    cc.dispose();
  }
  return new PackedTernary(layout, [n, k], data, scale);
}

/** Unpacks to int8 values in {-1, 0, +1}, shape [N, K]. */
export function unpackTernary(p: PackedTernary): Tensor<"i8"> {
  if (!(p instanceof PackedTernary)) throw new TypeError(`unpackTernary: p must be a PackedTernary, received ${describe(p)}`);
  const [n, k] = p.shape;
  const out = Tensor.empty([n, k], "i8");
  try {
    native.unpackTernary(p.data.data(), n, k, p.layout, out.data());
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

/**
 * y = x W^T for int8 activations and packed ternary weights: exact int32 dot products, then
 * y[m, n] = (dot * wScale[n]) / xScale[m] computed in float64 and rounded once to float32 (bit-exact
 * with a float64 reference). Either pass QuantizedActivations and the packed weights (whose scale
 * is used), or the four parts explicitly.
 */
export function ternaryMatmul(x: QuantizedActivations, w: PackedTernary, opts?: { out?: Tensor<"f32"> }): Tensor<"f32">;
export function ternaryMatmul(xq: Tensor<"i8">, xScale: Tensor<"f32">, w: PackedTernary, wScale?: number | Tensor<"f32">): Tensor<"f32">;
export function ternaryMatmul(
  a: QuantizedActivations | Tensor<"i8">,
  b: PackedTernary | Tensor<"f32">,
  c?: PackedTernary | { out?: Tensor<"f32"> },
  d?: number | Tensor<"f32">,
): Tensor<"f32"> {
  const fn = "ternaryMatmul";
  if (a instanceof Tensor) {
    // Raw form: pad and sum the activations, then run the same kernel.
    checkTensor(a, fn, "xq", "i8", 2);
    checkTensor(b, fn, "xScale", "f32", 1);
    if (!(c instanceof PackedTernary)) throw new TypeError(`${fn}: wPacked must be a PackedTernary, received ${describe(c)}`);
    const wp = c;
    const [m, k] = a.shape;
    if (b.shape[0] !== m) throw new RangeError(`${fn}: xScale must have shape [${m}] (one per row of xq), received [${b.shape.join(", ")}]`);
    const kp = paddedCols(k);
    const padded = Tensor.empty([m, kp], "i8", true);
    const sums = Tensor.empty([m], "i32");
    const scales = b.contiguous();
    try {
      const src = a.contiguous();
      const pd = padded.data();
      const sd = sums.data();
      const xs = src.data();
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const v = xs[i * k + j];
          pd[i * kp + j] = v;
          s += v;
        }
        sd[i] = s;
      }
      src.dispose();
      const values = padded.slice(1, 0, k);
      const q: QuantizedActivations = { values, padded, scales, sums, dispose() {} };
      const out = matmulPacked(q, k, wp, d, fn, undefined);
      values.dispose();
      return out;
    } finally {
      padded.dispose();
      sums.dispose();
      scales.dispose();
    }
  }
  if (!(b instanceof PackedTernary)) throw new TypeError(`${fn}: w must be a PackedTernary, received ${describe(b)}`);
  if (a === null || typeof a !== "object" || !(a.padded instanceof Tensor)) {
    throw new TypeError(`${fn}: x must be QuantizedActivations (from quantizeActivationsInt8) or an i8 Tensor, received ${describe(a)}`);
  }
  if (c !== undefined && (c === null || typeof c !== "object" || c instanceof PackedTernary)) {
    throw new TypeError(`${fn}: options must be an object like { out }, received ${describe(c)}`);
  }
  return matmulPacked(a, a.values.shape[1], b, undefined, fn, (c as { out?: Tensor<"f32"> } | undefined)?.out);
}

function matmulPacked(
  x: QuantizedActivations,
  k: number,
  w: PackedTernary,
  wScale: number | Tensor<"f32"> | undefined,
  fn: string,
  into: Tensor<"f32"> | undefined,
): Tensor<"f32"> {
  const [n, wk] = w.shape;
  if (wk !== k) throw new RangeError(`${fn}: the weights have ${wk} input features (shape [${n}, ${wk}]) but the activations have ${k}`);
  const m = x.padded.shape[0];
  const packed = w.kernelLayout();
  let scale = packed.scale;
  let ownScale = false;
  if (wScale !== undefined) {
    if (typeof wScale === "number") {
      scale = Tensor.empty([1], "f32");
      scale.data()[0] = wScale;
    } else {
      scale = Tensor.empty([wScale.numel], "f32");
      scale.data().set(wScale.toFloat32Array());
    }
    ownScale = true;
  }
  if (into !== undefined) {
    if (!(into instanceof Tensor) || into.disposed || into.dtype !== "f32" || !into.isContiguous()) {
      throw new TypeError(`${fn}: out must be a live contiguous f32 Tensor, received ${describe(into)}`);
    }
    if (into.ndim !== 2 || into.shape[0] !== m || into.shape[1] !== n) {
      throw new RangeError(`${fn}: out must have shape [${m}, ${n}], received [${into.shape.join(", ")}]`);
    }
  }
  const out = into ?? Tensor.empty([m, n], "f32");
  try {
    native.ternaryMatmul(x.padded.data(), m, k, x.scales.data(), x.sums.data(), packed.data.data(), n, scale.data(), out.data());
  } catch (e) {
    if (out !== into) out.dispose();
    throw renameFunction(e, fn);
  } finally {
    if (ownScale) scale.dispose();
  }
  return out;
}
