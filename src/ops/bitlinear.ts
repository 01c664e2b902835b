// BitLinear (BitNet b1.58): y = x~ @ w~^T with absmean ternary weights (per tensor) and
// per-token absmax int8 activations, trained through the straight-through estimator:
//   w~ = w + lambda * (quant(w) - w), x~ = x + lambda * (quant(x) - x), gradients pass round and
//   clamp as identity. lambda = 1 is the recipe; lambda < 1 ramps quantization in when converting
//   a float model.
// Forward (lambda = 1) runs on the native int8 x ternary kernels: exact int32 dots, then
// (dot * s_w) / s_x in float64 rounded once. Backward uses the dequantized operands in fp32 on the
// GEMM: dX = g @ w~, dW = g^T @ x~.
import * as native from "../backend/kernels";
import { Tensor } from "../tensor/tensor";
import { formatShape } from "../tensor/shape";
import { describe } from "../tensor/dtype";
import { isGradEnabled, record } from "../autograd/tape";
import { packTernary, quantizeActivationsInt8, quantizeWeightsTernary, ternaryMatmul, QuantizedActivations } from "../quant";
import { gemmInto } from "./matmul";
import { checkInput } from "./util";

export interface BitLinearOptions {
  /** Quantization strength in [0, 1] (default 1): the warm-up lambda = min(step / N, 1). */
  lambda?: number;
  /**
   * Precision of the backward GEMMs (dX = g w~, dW = g^T x~): "fp32" (default) or "bf16"
   * (operands rounded to bfloat16, float32 accumulation; AVX-512 BF16 makes them ~2x faster;
   * measured relative RMS error of the products 2.35e-3 on random data). Under an ISA without
   * bf16 instructions "bf16" runs the fp32 products (`backendInfo().bf16Gemm` says which).
   */
  backwardPrecision?: "fp32" | "bf16";
}

/** x~ as f32 [m, k]: the dequantized int8 rows (lambda = 1) or the blend with x. */
function activationTilde(q: QuantizedActivations, x: Float32Array | null, m: number, k: number, lambda: number): Tensor<"f32"> {
  const out = Tensor.empty([m, k], "f32", false, "bitLinear");
  const o = out.data();
  const qv = q.padded.data();
  const s = q.scales.data();
  const kp = q.padded.shape[1];
  if (lambda === 1 || x === null) {
    native.dequantizeActivations(qv, m, k, s, o);
    return out;
  }
  for (let i = 0; i < m; i++) {
    const si = s[i];
    const row = i * kp;
    const orow = i * k;
    for (let j = 0; j < k; j++) {
      const xv = x[orow + j];
      o[orow + j] = xv + lambda * (qv[row + j] / si - xv);
    }
  }
  return out;
}

/** w~ as f32 [n, k]: codes * s_w (lambda = 1) or the blend with w. */
function weightTilde(codes: Int8Array, sw: number, w: Float32Array | null, n: number, k: number, lambda: number): Tensor<"f32"> {
  const out = Tensor.empty([n, k], "f32", false, "bitLinear");
  const o = out.data();
  if (lambda === 1 || w === null) {
    native.dequantizeTernary(codes, sw, o);
  } else {
    for (let i = 0; i < o.length; i++) o[i] = w[i] + lambda * (codes[i] * sw - w[i]);
  }
  return out;
}

/**
 * BitNet b1.58 linear layer (no bias): x [..., K] with latent fp32 weight [N, K] -> [..., N].
 * Weights are quantized to {-1, 0, +1} * mean|W| per tensor and activations to int8 per token
 * on every call (the recipe's fake quantization), and the backward is the straight-through
 * estimator into the fp32 latent weights.
 */
export function bitLinear(x: Tensor<"f32">, weight: Tensor<"f32">, opts?: BitLinearOptions): Tensor<"f32"> {
  const fn = "bitLinear";
  checkInput(fn, "x", x);
  checkInput(fn, "weight", weight, "f32", 2);
  if (opts !== undefined && (opts === null || typeof opts !== "object")) throw new TypeError(`${fn}: opts must be an object like { lambda }, received ${describe(opts)}`);
  const lambda = opts?.lambda ?? 1;
  if (typeof lambda !== "number") throw new TypeError(`${fn}: lambda must be a number in [0, 1], received ${describe(lambda)}`);
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`${fn}: lambda must be a number in [0, 1], received ${lambda}`);
  const precision = opts?.backwardPrecision ?? "fp32";
  if (precision !== "fp32" && precision !== "bf16") {
    throw new RangeError(`${fn}: backwardPrecision must be 'fp32' or 'bf16', received ${describe(precision)}`);
  }
  const bf16 = precision === "bf16";
  if (x.ndim < 1) throw new RangeError(`${fn}: x must have at least 1 dimension, received ${formatShape(x.shape)}`);
  const [n, k] = weight.shape;
  if (x.shape[x.ndim - 1] !== k) {
    throw new RangeError(`${fn}: x's last dimension must be ${k} (weight is ${formatShape(weight.shape)}), received ${formatShape(x.shape)}`);
  }
  const m = k === 0 ? 0 : x.numel / k;
  const outShape = [...x.shape.slice(0, -1), n];
  const xc = x.isContiguous() ? x : x.contiguous();
  const x2 = new Tensor(xc.storage, "f32", [m, k], undefined, xc.offset);
  const tw = quantizeWeightsTernary(weight);
  let q: QuantizedActivations | undefined;
  let out: Tensor<"f32">;
  try {
    q = quantizeActivationsInt8(x2);
    if (lambda === 1) {
      const packed = packTernary(tw);
      try {
        const y = ternaryMatmul(q, packed);
        out = y.reshape(outShape);
        y.dispose();
      } finally {
        packed.dispose();
      }
    } else {
      const xt = activationTilde(q, x2.data(), m, k, lambda);
      const wc = weight.isContiguous() ? weight : weight.contiguous();
      const wt = weightTilde(tw.codes.data(), tw.scales.data()[0], wc.data(), n, k, lambda);
      if (wc !== weight) wc.dispose();
      out = Tensor.empty(outShape, "f32", false, fn);
      const o2 = new Tensor(out.storage, "f32", [m, n]);
      const wT = wt.transpose(0, 1);
      gemmInto(xt, wT, o2);
      for (const t of [o2, wT, wt, xt]) t.dispose();
    }
  } catch (e) {
    q?.dispose();
    tw.dispose();
    throw e;
  } finally {
    x2.dispose();
    if (xc !== x) xc.dispose();
  }
  if (!isGradEnabled() || (!x.requiresGrad && !weight.requiresGrad)) {
    q.dispose();
    tw.dispose();
    return out;
  }
  const saved = q;
  // The blend needs the original x and w at backward time; lambda = 1 needs only the codes.
  const xKeep = lambda === 1 ? null : x;
  let released = false;
  return record("bitLinear", out, [x, weight], (g) => {
    // The quantized operands are freed after the first backward (they are as large as x).
    if (released) throw new Error("bitLinear: a second backward through the same call is not supported (its quantized operands were released after the first); recompute the forward");
    released = true;
    const gc = g.isContiguous() ? g : g.contiguous();
    const g2 = new Tensor(gc.storage, "f32", [m, n], undefined, gc.offset);
    const temps: Tensor[] = [g2];
    try {
      let gx: Tensor<"f32"> | null = null;
      let gw: Tensor<"f32"> | null = null;
      if (x.requiresGrad) {
        let wData: Float32Array | null = null;
        if (lambda !== 1) {
          const wc = weight.contiguous();
          temps.push(wc);
          wData = wc.data();
        }
        const wt = weightTilde(tw.codes.data(), tw.scales.data()[0], wData, n, k, lambda);
        temps.push(wt);
        gx = Tensor.empty(x.shape, "f32", false, "bitLinear (backward)");
        const gx2 = new Tensor(gx.storage, "f32", [m, k]);
        temps.push(gx2);
        gemmInto(g2, wt, gx2, 1, 0, bf16);
      }
      if (weight.requiresGrad) {
        let xData: Float32Array | null = null;
        if (xKeep !== null) {
          const xs = xKeep.contiguous();
          temps.push(xs);
          xData = xs.data();
        }
        const xt = activationTilde(saved, xData, m, k, lambda);
        temps.push(xt);
        gw = Tensor.empty([n, k], "f32", false, "bitLinear (backward)");
        const gT = new Tensor(gc.storage, "f32", [n, m], [1, n], gc.offset);
        temps.push(gT);
        gemmInto(gT, xt, gw, 1, 0, bf16);
      }
      return [gx, gw];
    } finally {
      for (const t of temps) t.dispose();
      if (gc !== g) gc.dispose();
      saved.dispose();
      tw.dispose();
    }
  });
}
