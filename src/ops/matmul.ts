// Matrix products on the native fp32 GEMM (cpu/gemm): matmul with batch broadcasting and
// linear (x @ W^T, the layout of PyTorch's nn.Linear weights), forward and backward side by
// side. A 2-d operand that is a transposed view is handed to the GEMM as a transposed matrix
// instead of being copied.
import * as native from "../backend/kernels";
import { Tensor } from "../tensor/tensor";
import { record } from "../autograd/tape";
import { formatShape } from "../tensor/shape";
import { checkInput, broadcastShapes, sameShape } from "./util";

/** A matrix operand as the GEMM sees it: data from its first element, transposed or not, leading dimension. */
interface Operand {
  data: Float32Array;
  trans: boolean;
  ld: number;
  release(): void;
}

/** A rows x cols matrix view (strides of its last two dims) as a GEMM operand, copying only when neither layout fits. */
function operand(t: Tensor<"f32">, rows: number, cols: number, offset: number, rowStride: number, colStride: number): Operand {
  const base = t.storageArray() as Float32Array;
  if (colStride === 1 && (rowStride >= cols || rows <= 1)) {
    return { data: base.subarray(offset), trans: false, ld: Math.max(rowStride, cols, 1), release() {} };
  }
  if (rowStride === 1 && (colStride >= rows || cols <= 1)) {
    return { data: base.subarray(offset), trans: true, ld: Math.max(colStride, rows, 1), release() {} };
  }
  const copy = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) copy[i * cols + j] = base[offset + i * rowStride + j * colStride];
  return { data: copy, trans: false, ld: Math.max(cols, 1), release() {} };
}

/**
 * C = alpha * A B + beta * C on 2-d views (internal building block): A is [m, k], B [k, n],
 * C a contiguous [m, n] tensor. With bf16, A and B are rounded to bfloat16 as they are packed
 * (float32 accumulation): about twice as fast with AVX-512 BF16, relative error ~2.4e-3.
 */
export function gemmInto(a: Tensor<"f32">, b: Tensor<"f32">, c: Tensor<"f32">, alpha = 1, beta = 0, bf16 = false): void {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const oa = operand(a, m, k, a.offset, a.strides[0], a.strides[1]);
  const ob = operand(b, k, n, b.offset, b.strides[0], b.strides[1]);
  (bf16 ? native.sgemmBf16 : native.sgemm)(oa.trans, ob.trans, m, n, k, alpha, oa.data, oa.ld, ob.data, ob.ld, beta, c.data(), Math.max(n, 1));
}

/** Row-major [rows, cols] view of the last two dims of batch entry `i` of `t` (batch dims flattened). */
function matrixAt(t: Tensor<"f32">, batchShape: readonly number[], i: number): Tensor<"f32"> {
  const nd = t.ndim;
  const own = t.shape.slice(0, nd - 2);
  // Index of batch entry i in t's own (broadcast) batch dims.
  let rem = i;
  let offset = t.offset;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    const size = batchShape[d];
    const idx = rem % size;
    rem = (rem - idx) / size;
    const od = d - (batchShape.length - own.length);
    if (od >= 0 && own[od] !== 1) offset += idx * t.strides[od];
  }
  return new Tensor(t.storage, "f32", t.shape.slice(nd - 2), t.strides.slice(nd - 2), offset);
}

function batchMatmul(a: Tensor<"f32">, b: Tensor<"f32">, batch: readonly number[], outShape: number[]): Tensor<"f32"> {
  const out = Tensor.empty(outShape, "f32", false, "matmul");
  const [m, n] = outShape.slice(-2);
  const count = batch.reduce((x, y) => x * y, 1);
  for (let i = 0; i < count; i++) {
    const ai = matrixAt(a, batch, i);
    const bi = matrixAt(b, batch, i);
    const ci = new Tensor(out.storage, "f32", [m, n], undefined, i * m * n);
    try {
      gemmInto(ai, bi, ci);
    } finally {
      ai.dispose();
      bi.dispose();
      ci.dispose();
    }
  }
  return out;
}

/** Sums a gradient over the batch dims it was broadcast along, back to `shape`. */
function reduceBatch(g: Tensor<"f32">, shape: readonly number[]): Tensor<"f32"> {
  if (sameShape(g.shape, shape)) return g;
  const out = Tensor.empty(shape, "f32", true, "matmul (backward)");
  const o = out.data();
  const gd = g.data();
  const nd = g.ndim;
  const lead = nd - shape.length;
  const gStrides = g.strides;
  // For each element of g, its index in `out` (broadcast dims collapse to 0).
  const outStrides: number[] = new Array(nd).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    outStrides[d + lead] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  const idx = new Array(nd).fill(0);
  for (let flat = 0; flat < gd.length; flat++) {
    let off = 0;
    for (let d = 0; d < nd; d++) off += idx[d] * outStrides[d];
    o[off] += gd[flat];
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < g.shape[d]) break;
      idx[d] = 0;
    }
  }
  void gStrides;
  return out;
}

/**
 * Matrix product with NumPy semantics: [..., M, K] @ [..., K, N] -> [..., M, N], batch dims
 * broadcast; a 1-d operand is a row (left) or column (right) vector. Runs on the native fp32
 * GEMM (blocked, SIMD, multithreaded; the same result for every thread count).
 */
export function matmul(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  const fn = "matmul";
  checkInput(fn, "a", a);
  checkInput(fn, "b", b);
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`${fn}: operands must have at least 1 dimension, received ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  if (a.ndim === 1) {
    const a2 = a.reshape([1, a.shape[0]]);
    const r = matmul(a2, b);
    const out = r.reshape(r.shape.slice(0, -2).concat(r.shape.slice(-1)));
    return out;
  }
  if (b.ndim === 1) {
    const b2 = b.reshape([b.shape[0], 1]);
    const r = matmul(a, b2);
    return r.reshape(r.shape.slice(0, -1));
  }
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new RangeError(`${fn}: inner dimensions differ: a is ${formatShape(a.shape)} (K = ${k}), b is ${formatShape(b.shape)} (K = ${k2})`);
  }
  const batch = broadcastShapes(fn, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = batchMatmul(a, b, batch, [...batch, m, n]);
  return record("matmul", out, [a, b], (g) => {
    // dA = g @ B^T, dB = A^T @ g, each summed over the batch dims its operand was broadcast along.
    const gb = batch.length === 0 ? g : g;
    const bt = b.transpose(-1, -2) as Tensor<"f32">;
    const at = a.transpose(-1, -2) as Tensor<"f32">;
    try {
      const ga = a.requiresGrad ? reduceBatch(batchMatmul(gb, bt, batch, [...batch, m, k]), a.shape) : null;
      const gbb = b.requiresGrad ? reduceBatch(batchMatmul(at, gb, batch, [...batch, k, n]), b.shape) : null;
      return [ga, gbb];
    } finally {
      bt.dispose();
      at.dispose();
    }
  });
}

/**
 * x @ W^T for x [..., K] and weight [N, K] (nn.Linear's layout, no bias) -> [..., N]. The
 * batch dims are flattened into the GEMM's M, so a [B, T, K] input is one [B*T, K] product.
 */
export function linear(x: Tensor<"f32">, weight: Tensor<"f32">): Tensor<"f32"> {
  const fn = "linear";
  checkInput(fn, "x", x);
  checkInput(fn, "weight", weight, "f32", 2);
  if (x.ndim < 1) throw new RangeError(`${fn}: x must have at least 1 dimension, received ${formatShape(x.shape)}`);
  const [n, k] = weight.shape;
  const kx = x.shape[x.ndim - 1];
  if (kx !== k) {
    throw new RangeError(`${fn}: x's last dimension must be ${k} (weight is ${formatShape(weight.shape)}), received ${formatShape(x.shape)}`);
  }
  const m = x.numel / Math.max(k, 1) || 0;
  const xc = x.isContiguous() ? x : x.contiguous();
  const x2 = new Tensor(xc.storage, "f32", [m, k], undefined, xc.offset);
  const wt = new Tensor(weight.storage, "f32", [k, n], [weight.strides[1], weight.strides[0]], weight.offset);
  const out = Tensor.empty([...x.shape.slice(0, -1), n], "f32", false, fn);
  const o2 = new Tensor(out.storage, "f32", [m, n]);
  try {
    gemmInto(x2, wt, o2);
  } finally {
    o2.dispose();
    wt.dispose();
    if (xc !== x) xc.dispose();
  }
  return record("linear", out, [x, weight], (g) => {
    const gc = g.isContiguous() ? g : g.contiguous();
    const g2 = new Tensor(gc.storage, "f32", [m, n], undefined, gc.offset);
    const xs = x.isContiguous() ? x : x.contiguous();
    const xm = new Tensor(xs.storage, "f32", [m, k], undefined, xs.offset);
    try {
      let gx: Tensor<"f32"> | null = null;
      let gw: Tensor<"f32"> | null = null;
      if (x.requiresGrad) {
        // dX = g @ W: [M, N] @ [N, K]
        gx = Tensor.empty(x.shape, "f32", false, "linear (backward)");
        const gx2 = new Tensor(gx.storage, "f32", [m, k]);
        gemmInto(g2, weight, gx2);
        gx2.dispose();
      }
      if (weight.requiresGrad) {
        // dW = g^T @ x: [N, M] @ [M, K]
        gw = Tensor.empty([n, k], "f32", false, "linear (backward)");
        const gt = new Tensor(gc.storage, "f32", [n, m], [1, n], gc.offset);
        gemmInto(gt, xm, gw);
        gt.dispose();
      }
      return [gx, gw];
    } finally {
      g2.dispose();
      xm.dispose();
      if (gc !== g) gc.dispose();
      if (xs !== x) xs.dispose();
    }
  });
}
