// Rotary position embeddings and causal softmax attention (on the native kernels of
// cpu/attention), forward and backward side by side.
// Tensors use the [B, T, H, hd] layout a projection's output reshapes to without a transpose:
// for a fixed (batch, head) the vectors of consecutive positions are H * hd apart and each
// vector is hd contiguous floats, so every inner loop is a contiguous dot or axpy over hd.
// The math per (position, head) vector is the PyTorch reference's [B, H, T, hd] math.
import * as native from "../backend/kernels";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";
import { record } from "../autograd/tape";
import { checkInput, checkNumber, readF32 } from "./util";
import { checkInteger } from "../validate";

/** Cosine and sine of the RoPE angles: row-major [positions, headDim / 2]. */
export interface RopeTables {
  /** The head size the tables were made for (rope() checks it against x). */
  headDim: number;
  cos: Float32Array;
  sin: Float32Array;
}

function checkOptions(fn: string, opts: unknown): void {
  if (opts !== undefined && (opts === null || typeof opts !== "object" || Array.isArray(opts))) {
    throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  }
}

/**
 * The RoPE tables for positions offset .. offset + seqLen - 1: for position p and pair i
 * (0 <= i < headDim / 2) the angle is p / theta^(2i / headDim), as in the PyTorch reference
 * `rope_tables`. Angles and their cosines/sines are computed in float64 and rounded to f32 once.
 * Returns `{ headDim, cos, sin }`, cos and sin each a Float32Array of [seqLen, headDim / 2].
 */
export function ropeTables(seqLen: number, headDim: number, theta = 10000, offset = 0): RopeTables {
  const fn = "ropeTables";
  checkInteger(fn, "seqLen", seqLen, 1, Number.MAX_SAFE_INTEGER, "a positive integer");
  checkInteger(fn, "headDim", headDim, 2, Number.MAX_SAFE_INTEGER, "a positive even integer");
  if (headDim % 2 !== 0) throw new RangeError(`${fn}: headDim must be a positive even integer, received ${headDim}`);
  checkNumber(fn, "theta", theta);
  if (theta <= 0) throw new RangeError(`${fn}: theta must be positive, received ${theta}`);
  checkInteger(fn, "offset", offset, 0, Number.MAX_SAFE_INTEGER, "a non-negative integer");
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  const cos = new Float32Array(seqLen * half);
  const sin = new Float32Array(seqLen * half);
  for (let t = 0; t < seqLen; t++) {
    const pos = offset + t;
    const row = t * half;
    for (let i = 0; i < half; i++) {
      const a = pos * inv[i];
      cos[row + i] = Math.cos(a);
      sin[row + i] = Math.sin(a);
    }
  }
  return { headDim, cos, sin };
}

/**
 * Rotary position embedding (rotate-half form) of x [B, T, H, hd]: for the vector of position t
 * and any head, with x1 = its first hd/2 entries and x2 = the last hd/2,
 * out = [x1 * cos_t - x2 * sin_t, x1 * sin_t + x2 * cos_t], where cos_t/sin_t are row
 * `offset + t` of `tables` (ropeTables(..., headDim = hd)). `opts.offset` (default 0) is the
 * table row of x's first position, e.g. the cache length when decoding with tables that start at
 * position 0. The backward rotates the gradient by the opposite angle. Returns [B, T, H, hd].
 */
export function rope(x: Tensor<"f32">, tables: RopeTables, opts?: { offset?: number }): Tensor<"f32"> {
  const fn = "rope";
  checkInput(fn, "x", x, "f32", 4);
  const [B, T, H, hd] = x.shape;
  if (hd < 2 || hd % 2 !== 0) {
    throw new RangeError(`${fn}: the head size (last dimension of x) must be a positive even number, received ${hd} (x has shape ${formatShape(x.shape)})`);
  }
  const half = hd / 2;
  if (tables === null || typeof tables !== "object") throw new TypeError(`${fn}: tables must be { cos, sin } from ropeTables, received ${describe(tables)}`);
  const cos = tables.cos;
  const sin = tables.sin;
  if (!(cos instanceof Float32Array)) throw new TypeError(`${fn}: tables.cos must be a Float32Array, received ${describe(cos)}`);
  if (!(sin instanceof Float32Array)) throw new TypeError(`${fn}: tables.sin must be a Float32Array, received ${describe(sin)}`);
  if (tables.headDim !== hd) {
    throw new RangeError(`${fn}: tables were made for head size ${describe(tables.headDim)}, x has head size ${hd} (shape ${formatShape(x.shape)})`);
  }
  if (cos.length !== sin.length) {
    throw new RangeError(`${fn}: tables.cos and tables.sin must have the same length, received ${cos.length} and ${sin.length}`);
  }
  if (cos.length % half !== 0) {
    throw new RangeError(`${fn}: tables must have rows of ${half} values (head size ${hd} / 2), received length ${cos.length}, not a multiple of ${half}`);
  }
  checkOptions(fn, opts);
  const offset = opts?.offset ?? 0;
  checkInteger(fn, "opts.offset", offset, 0, Number.MAX_SAFE_INTEGER, "a non-negative integer");
  const rows = cos.length / half;
  if (rows < offset + T) {
    throw new RangeError(`${fn}: tables must have at least ${offset + T} rows (offset ${offset} + sequence length ${T}) of ${half} values, received ${rows} rows`);
  }

  const out = Tensor.empty(x.shape, "f32", false, fn);
  const xr = readF32(x);
  rotate(xr.data, out.data(), cos, sin, B, T, H, half, offset, 1);
  xr.release();
  return record("rope", out, [x], (g) => {
    const dx = Tensor.empty(x.shape, "f32", false, "rope (backward)");
    const gr = readF32(g);
    rotate(gr.data, dx.data(), cos, sin, B, T, H, half, offset, -1);
    gr.release();
    return [dx];
  });
}

// out = rotation of x by sign * angle, pair (i, i + half) of each vector (native, threaded; each
// output computed in float64 and rounded once).
function rotate(x: Float32Array, out: Float32Array, cos: Float32Array, sin: Float32Array, B: number, T: number, H: number, half: number, offset: number, sign: number): void {
  native.rope(x, out, B, T, H, 2 * half, cos, sin, offset, sign);
}

/**
 * Causal softmax attention with grouped-query heads: q [B, T, Hq, hd], k and v [B, T, Hkv, hd]
 * (Hq a multiple of Hkv; query head h reads kv head floor(h / (Hq / Hkv))). For each batch b,
 * query head h and position t:
 *   p_s = softmax_s(scale * q_t . k_s) over s <= t,   out_t = sum_s p_s v_s,
 * with scale defaulting to 1 / sqrt(hd): the reference's
 * `(q @ k^T * scale).masked_fill(causal_mask, -inf).softmax(-1) @ v`. The probabilities are kept
 * (the causal triangle, B * Hq * T * (T + 1) / 2 floats) for the backward. Returns [B, T, Hq, hd].
 */
export function causalAttention(q: Tensor<"f32">, k: Tensor<"f32">, v: Tensor<"f32">, opts?: { scale?: number }): Tensor<"f32"> {
  const fn = "causalAttention";
  checkInput(fn, "q", q, "f32", 4);
  checkInput(fn, "k", k, "f32", 4);
  checkInput(fn, "v", v, "f32", 4);
  const [B, T, Hq, hd] = q.shape;
  if (B < 1 || T < 1 || Hq < 1 || hd < 1) {
    throw new RangeError(`${fn}: q must have shape [B, T, Hq, hd] with every dimension at least 1, received ${formatShape(q.shape)}`);
  }
  const Hkv = k.shape[2];
  if (k.shape[0] !== B || k.shape[1] !== T || k.shape[3] !== hd || Hkv < 1) {
    throw new RangeError(`${fn}: k must have shape [${B}, ${T}, Hkv, ${hd}] (batch, length and head size of q, Hkv >= 1), received ${formatShape(k.shape)}`);
  }
  if (v.shape[0] !== B || v.shape[1] !== T || v.shape[2] !== Hkv || v.shape[3] !== hd) {
    throw new RangeError(`${fn}: v must have shape ${formatShape(k.shape)} (the shape of k), received ${formatShape(v.shape)}`);
  }
  if (Hq % Hkv !== 0) {
    throw new RangeError(`${fn}: the number of query heads must be a multiple of the number of kv heads, received ${Hq} query heads (q ${formatShape(q.shape)}) and ${Hkv} kv heads (k ${formatShape(k.shape)})`);
  }
  checkOptions(fn, opts);
  const scale = opts?.scale ?? 1 / Math.sqrt(hd);
  checkNumber(fn, "opts.scale", scale);

  // Native kernels (cpu/attention): the forward keeps only each row's log-sum-exp and the
  // backward recomputes the probabilities from it.
  const shape = { B, T, Hq, Hkv, hd, scale };
  const out = Tensor.empty(q.shape, "f32", false, fn);
  const lse = new Float32Array(B * Hq * T);
  const qc = q.isContiguous() ? q : q.contiguous();
  const kc = k.isContiguous() ? k : k.contiguous();
  const vc = v.isContiguous() ? v : v.contiguous();
  try {
    native.attentionForward(qc.data(), kc.data(), vc.data(), B, T, T, Hq, Hkv, hd, scale, out.data(), lse);
  } finally {
    if (qc !== q) qc.dispose();
    if (kc !== k) kc.dispose();
    if (vc !== v) vc.dispose();
  }
  return record("causalAttention", out, [q, k, v], (g) => attentionBackward(q, k, v, out, lse, g, shape));
}

function attentionBackward(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  out: Tensor<"f32">,
  lse: Float32Array,
  g: Tensor<"f32">,
  s: { B: number; T: number; Hq: number; Hkv: number; hd: number; scale: number },
): (Tensor<"f32"> | null)[] {
  const temps: Tensor[] = [];
  const contiguous = (t: Tensor<"f32">): Tensor<"f32"> => {
    if (t.isContiguous()) return t;
    const c = t.contiguous();
    temps.push(c);
    return c;
  };
  const dq = Tensor.empty(q.shape, "f32", false, "causalAttention (backward)");
  const dk = Tensor.empty(k.shape, "f32", false, "causalAttention (backward)");
  const dv = Tensor.empty(v.shape, "f32", false, "causalAttention (backward)");
  try {
    const { B, T, Hq, Hkv, hd, scale } = s;
    native.attentionBackward(
      contiguous(q).data(), contiguous(k).data(), contiguous(v).data(), out.data(), lse, contiguous(g).data(),
      B, T, T, Hq, Hkv, hd, scale, dq.data(), dk.data(), dv.data(),
    );
  } catch (e) {
    for (const t of [dq, dk, dv]) t.dispose();
    throw e;
  } finally {
    for (const t of temps) t.dispose();
  }
  const result: (Tensor<"f32"> | null)[] = [dq, dk, dv];
  [q, k, v].forEach((t, i) => {
    if (!t.requiresGrad) {
      result[i]!.dispose();
      result[i] = null;
    }
  });
  return result;
}
