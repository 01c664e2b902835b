// The gateway to native kernels: one typed function per native kernel entry point, named as the
// addon exports it. Each one owns its profiler record (cost model in ops and bytes, shape label;
// the addon reports the export's family, hence its variant), so every kernel call is profiled
// the same way wherever it comes from. Code outside src/backend
// calls these, never the addon (test/backend/gateway.test.ts enforces it); only the storage and
// file-mapping owners (src/tensor/storage.ts, src/io/file-bytes.ts) reach the addon for memory.
import { addon, NativeTypedArray } from "./addon";
import { runKernel } from "./hook";

export type { NativeTypedArray };

/**
 * Below this many elements a loop in JS beats crossing into native code (measured on the
 * element-wise kernels): callers of elementwise, adamwUpdate and sumSquares decide with it.
 */
export const NATIVE_MIN_ELEMENTS = 1 << 15;

/** f32 and the 16-bit float formats (raw bits in a Uint16Array). */
export type FloatFormat = "f32" | "f16" | "bf16";
export type ElementwiseOp = "add" | "sub" | "mul" | "div" | "relu2" | "relu2Backward";
/** Packed ternary layouts: kernels' own, bitnet.cpp's I2_S (x86), Hugging Face's BitNet. */
export type TernaryLayout = "tl256" | "i2s" | "hf";
/** Weight scale granularity: the recipe's per tensor, per output channel, per group of 128. */
export type WeightScaleMode = "tensor" | "channel" | "group128";

/** The signature of sgemm and sgemmBf16. */
export type SgemmFunction = (
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
) => void;

// The two GEMM exports differ only in the operand precision the addon applies.
function gemmExport(kernel: "sgemm" | "sgemmBf16"): SgemmFunction {
  return (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
    runKernel(kernel, 2 * m * n * k, 4 * (m * k + k * n + m * n), () => `M=${m} N=${n} K=${k}`, () =>
      addon()[kernel](transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
    );
}

/** C = alpha * op(A) op(B) + beta * C on row-major Float32Arrays (leading dimensions in elements). */
export const sgemm: SgemmFunction = gemmExport("sgemm");

/** sgemm with A and B rounded to bfloat16 (float32 accumulation); see backendInfo().bf16Gemm. */
export const sgemmBf16: SgemmFunction = gemmExport("sgemmBf16");

const ELEMENTWISE_OPS: Record<ElementwiseOp, number> = { add: 1, sub: 1, mul: 1, div: 1, relu2: 2, relu2Backward: 3 };

/** out = a (op) b element by element; relu2 takes no `b`, relu2Backward takes (x, gradient). */
export function elementwise(op: ElementwiseOp, a: Float32Array, b: Float32Array | null, out: Float32Array): void {
  const n = out.length;
  runKernel("elementwise", ELEMENTWISE_OPS[op] * n, (b === null ? 8 : 12) * n, () => `${op} n=${n}`, () => addon().elementwise(op, a, b, out));
}

/** AdamW on one parameter in place (p, m, v updated; g read). */
export function adamwUpdate(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  decay: number, beta1: number, beta2: number, stepSize: number, bias2Sqrt: number, eps: number,
): void {
  const n = p.length;
  runKernel("adamwUpdate", 16 * n, 28 * n, () => `n=${n}`, () => addon().adamwUpdate(p, g, m, v, decay, beta1, beta2, stepSize, bias2Sqrt, eps));
}

/** The sum of squares of `x` (float64 accumulation). */
export function sumSquares(x: Float32Array): number {
  return runKernel("sumSquares", 2 * x.length, 4 * x.length, () => `n=${x.length}`, () => addon().sumSquares(x));
}

/** out[i] = weight row ids[i] (weight [rows, cols]); every id must be a row. */
export function embeddingForward(weight: Float32Array, rows: number, cols: number, ids: Int32Array, out: Float32Array): void {
  const n = ids.length;
  runKernel("embeddingForward", 0, 8 * n * cols + 4 * n, () => `n=${n} V=${rows} D=${cols}`, () => addon().embeddingForward(weight, rows, cols, ids, out));
}

/** dweight[ids[i]] += grad row i, in row order (dweight [rows, cols], accumulated into). */
export function embeddingBackward(grad: Float32Array, ids: Int32Array, rows: number, cols: number, dweight: Float32Array): void {
  const n = ids.length;
  runKernel("embeddingBackward", n * cols, 12 * n * cols + 4 * n, () => `n=${n} V=${rows} D=${cols}`, () => addon().embeddingBackward(grad, ids, rows, cols, dweight));
}

/** out = codes * scale. */
export function dequantizeTernary(codes: Int8Array, scale: number, out: Float32Array): void {
  const n = out.length;
  runKernel("dequantizeTernary", n, 5 * n, () => `n=${n}`, () => addon().dequantizeTernary(codes, scale, out));
}

/** out[r] = q[r] (padded rows) / scales[r]. */
export function dequantizeActivations(q: Int8Array, rows: number, cols: number, scales: Float32Array, out: Float32Array): void {
  runKernel("dequantizeActivations", rows * cols, q.length + 4 * rows * cols, () => `M=${rows} K=${cols}`, () =>
    addon().dequantizeActivations(q, rows, cols, scales, out),
  );
}

/** Rotary embedding of x [batch, seq, heads, headDim] at positions offset.. (sign -1: its inverse). */
export function rope(
  x: Float32Array, out: Float32Array, batch: number, seq: number, heads: number, headDim: number,
  cos: Float32Array, sin: Float32Array, offset: number, sign: number,
): void {
  runKernel("rope", 3 * x.length, 8 * x.length, () => `B=${batch} T=${seq} H=${heads} hd=${headDim}`, () =>
    addon().rope(x, out, batch, seq, heads, headDim, cos, sin, offset, sign),
  );
}

/** Query-key pairs a causal attention of qLen queries at the end of kvLen positions computes. */
function causalPairs(qLen: number, kvLen: number): number {
  return qLen * kvLen - (qLen * (qLen - 1)) / 2;
}

/** Causal attention, queries at the last qLen of kvLen positions; lse receives the log-sum-exps. */
export function attentionForward(
  q: Float32Array, k: Float32Array, v: Float32Array,
  batch: number, qLen: number, kvLen: number, qHeads: number, kvHeads: number, headDim: number, scale: number,
  out: Float32Array, lse: Float32Array,
): void {
  runKernel("attentionForward", 4 * batch * qHeads * headDim * causalPairs(qLen, kvLen), 4 * (2 * q.length + 2 * k.length),
    () => `B=${batch} T=${qLen} kv=${kvLen} Hq=${qHeads} Hkv=${kvHeads} hd=${headDim}`,
    () => addon().attentionForward(q, k, v, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, out, lse),
  );
}

/** The gradients of attentionForward (dq, dk, dv written). */
export function attentionBackward(
  q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, dout: Float32Array,
  batch: number, qLen: number, kvLen: number, qHeads: number, kvHeads: number, headDim: number, scale: number,
  dq: Float32Array, dk: Float32Array, dv: Float32Array,
): void {
  runKernel("attentionBackward", 10 * batch * qHeads * headDim * causalPairs(qLen, kvLen), 4 * (5 * q.length + 4 * k.length),
    () => `B=${batch} T=${qLen} kv=${kvLen} Hq=${qHeads} Hkv=${kvHeads} hd=${headDim}`,
    () => addon().attentionBackward(q, k, v, out, lse, dout, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, dq, dk, dv),
  );
}

/** One query position against kvLen cached keys and values (f32, or f16 bits). */
export function attentionDecode(
  q: Float32Array, k: Float32Array | Uint16Array, v: Float32Array | Uint16Array,
  kvLen: number, qHeads: number, kvHeads: number, headDim: number, scale: number, out: Float32Array,
): void {
  runKernel("attentionDecode", 4 * qHeads * headDim * kvLen, k.byteLength + v.byteLength + 8 * q.length,
    () => `kv=${kvLen} Hq=${qHeads} Hkv=${kvHeads} hd=${headDim} ${k instanceof Uint16Array ? "f16" : "f32"}`,
    () => addon().attentionDecode(q, k, v, kvLen, qHeads, kvHeads, headDim, scale, out),
  );
}

/** RMSNorm of `rows` rows of `d`, times w when given; rstd receives 1 / rms per row. */
export function rmsNormForward(x: Float32Array, w: Float32Array | null, rows: number, d: number, eps: number, out: Float32Array, rstd: Float32Array): void {
  runKernel("rmsNormForward", 4 * rows * d, 12 * rows * d, () => `rows=${rows} d=${d}`, () => addon().rmsNormForward(x, w, rows, d, eps, out, rstd));
}

/** The gradients of rmsNormForward (dx and/or dw). */
export function rmsNormBackward(
  g: Float32Array, x: Float32Array, w: Float32Array | null, rstd: Float32Array, rows: number, d: number,
  dx: Float32Array | null, dw: Float32Array | null,
): void {
  runKernel("rmsNormBackward", 8 * rows * d, 16 * rows * d, () => `rows=${rows} d=${d}`, () => addon().rmsNormBackward(g, x, w, rstd, rows, d, dx, dw));
}

/** Per-row log-sum-exp and loss of softmax cross-entropy. */
export function crossEntropyForward(
  logits: Float32Array, rows: number, classes: number, targets: Int32Array, ignoreIndex: number | null, lse: Float64Array, loss: Float64Array,
): void {
  runKernel("crossEntropyForward", 4 * rows * classes, 4 * rows * classes + 20 * rows, () => `N=${rows} V=${classes}`, () =>
    addon().crossEntropyForward(logits, rows, classes, targets, ignoreIndex, lse, loss),
  );
}

/** dx = (softmax(logits) - onehot(targets)) * scale per row. */
export function crossEntropyBackward(
  logits: Float32Array, rows: number, classes: number, targets: Int32Array, ignoreIndex: number | null,
  lse: Float64Array, scale: Float64Array, dx: Float32Array,
): void {
  runKernel("crossEntropyBackward", 3 * rows * classes, 8 * rows * classes + 12 * rows, () => `N=${rows} V=${classes}`, () =>
    addon().crossEntropyBackward(logits, rows, classes, targets, ignoreIndex, lse, scale, dx),
  );
}

/** out = exp((z - max) * invTemperature): the sampler's unnormalised weights. */
export function softmaxWeights(z: Float32Array, max: number, invTemperature: number, out: Float32Array): void {
  runKernel("softmaxWeights", 3 * z.length, 8 * z.length, () => `n=${z.length}`, () => addon().softmaxWeights(z, max, invTemperature, out));
}

/** Per-row absmax int8 quantization into padded rows (q), with scales and row sums. */
export function quantizeActivationsInt8(x: Float32Array, rows: number, cols: number, q: Int8Array, scales: Float32Array, sums: Int32Array): void {
  runKernel("quantizeActivationsInt8", 3 * rows * cols, 4 * rows * cols + q.length + 8 * rows, () => `M=${rows} K=${cols}`, () =>
    addon().quantizeActivationsInt8(x, rows, cols, q, scales, sums),
  );
}

/** Absmean ternary quantization of a weight matrix (per tensor or per row, by `mode`). */
export function quantizeWeightsTernary(w: Float32Array, rows: number, cols: number, mode: WeightScaleMode, codes: Int8Array, scales: Float32Array): void {
  runKernel("quantizeWeightsTernary", 3 * rows * cols, 5 * rows * cols, () => `N=${rows} K=${cols}`, () => addon().quantizeWeightsTernary(w, rows, cols, mode, codes, scales));
}

/** Ternary codes (int8 in {-1, 0, 1}) packed to 2 bits in `layout`. */
export function packTernary(codes: Int8Array, rows: number, cols: number, layout: TernaryLayout, out: Uint8Array): void {
  runKernel("packTernary", rows * cols, rows * cols + out.length, () => `N=${rows} K=${cols} ${layout}`, () => addon().packTernary(codes, rows, cols, layout, out));
}

/** The inverse of packTernary. */
export function unpackTernary(packed: Uint8Array, rows: number, cols: number, layout: TernaryLayout, out: Int8Array): void {
  runKernel("unpackTernary", rows * cols, rows * cols + packed.length, () => `N=${rows} K=${cols} ${layout}`, () => addon().unpackTernary(packed, rows, cols, layout, out));
}

/** out = (xq . w^T) * wScale / xScale (tl256 weights, int8 activations of padded rows). */
export function ternaryMatmul(
  xq: Int8Array, rows: number, cols: number, xScale: Float32Array, xSum: Int32Array,
  w: Uint8Array, outFeatures: number, wScale: Float32Array, out: Float32Array,
): void {
  runKernel("ternaryMatmul", 2 * rows * outFeatures * cols, w.length + xq.length + 4 * rows * outFeatures, () => `M=${rows} N=${outFeatures} K=${cols}`, () =>
    addon().ternaryMatmul(xq, rows, cols, xScale, xSum, w, outFeatures, wScale, out),
  );
}

/** One weight matrix of a ternaryMatmulGroup call. */
export interface TernaryGroupMember {
  w: Uint8Array;
  outFeatures: number;
  wScale: Float32Array;
  out: Float32Array;
}

/** Two or three ternaryMatmuls of the same activations in one pass (q/k/v, gate/up). */
export function ternaryMatmulGroup(xq: Int8Array, rows: number, cols: number, xScale: Float32Array, xSum: Int32Array, members: readonly TernaryGroupMember[]): void {
  if (members.length !== 2 && members.length !== 3) throw new RangeError(`ternaryMatmulGroup: members must hold 2 or 3 weight matrices, received ${members.length}`);
  const [a, b, c] = members;
  const n = members.reduce((s, p) => s + p.outFeatures, 0);
  const bytes = members.reduce((s, p) => s + p.w.length, 0) + xq.length + 4 * rows * n;
  runKernel("ternaryMatmulGroup", 2 * rows * n * cols, bytes, () => `M=${rows} N=${members.map((p) => p.outFeatures).join("+")} K=${cols}`, () =>
    addon().ternaryMatmulGroup(
      xq, rows, cols, xScale, xSum,
      a.w, a.outFeatures, a.wScale, a.out,
      b.w, b.outFeatures, b.wScale, b.out,
      c ? c.w : null, c ? c.outFeatures : 0, c ? c.wScale : null, c ? c.out : null,
    ),
  );
}

/** out = x . w^T for a float or int8 weight matrix (int8: x quantized, both scales given). */
export function denseMatmul(
  x: Float32Array | Int8Array, rows: number, cols: number, w: Float32Array | Uint16Array | Int8Array, format: FloatFormat | "int8",
  outFeatures: number, xScale: Float32Array | null, wScale: Float32Array | null, out: Float32Array,
): void {
  const bytes = w.byteLength + (wScale ? wScale.byteLength : 0) + x.byteLength + 4 * rows * outFeatures;
  runKernel("denseMatmul", 2 * rows * outFeatures * cols, bytes, () => `M=${rows} N=${outFeatures} K=${cols} ${format}`, () =>
    addon().denseMatmul(x, rows, cols, w, format, outFeatures, xScale, wScale, out),
  );
}

/** Element-by-element conversion between f32 and f16/bf16 bits (round to nearest even). */
export function convert(src: Float32Array | Uint16Array, srcFormat: FloatFormat, dst: Float32Array | Uint16Array, dstFormat: FloatFormat): void {
  runKernel("convert", src.length, src.byteLength + dst.byteLength, () => `${srcFormat}->${dstFormat} n=${src.length}`, () =>
    addon().convert(src, srcFormat, dst, dstFormat),
  );
}

/** Copies a strided view of `src` into a strided region of `dst` (same element type). */
export function stridedCopy(
  src: NativeTypedArray, srcOffset: number, srcStrides: number[], dst: NativeTypedArray, dstOffset: number, dstStrides: number[], shape: number[],
): void {
  let n = 1;
  for (const d of shape) n *= d;
  runKernel("stridedCopy", 0, 2 * n * src.BYTES_PER_ELEMENT, () => `[${shape.join(",")}]`, () =>
    addon().stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape),
  );
}

/** Reads every byte of `data` on all pool threads (the read-bandwidth probe); returns a checksum. */
export function streamRead(data: Uint8Array): number {
  return runKernel("streamRead", 0, data.byteLength, () => `${data.byteLength} B`, () => addon().streamRead(data));
}

/** Runs `iterations` rounds of the active ISA's int8 dot chain on every pool thread; returns the ops done. */
export function int8DotPeak(iterations: number): number {
  return runKernel("int8DotPeak", 0, 0, () => `iterations=${iterations}`, () => addon().int8DotPeak(iterations));
}
