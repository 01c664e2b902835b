// The fp32 GEMM and the ops on it: values against float64, every ISA variant and thread count,
// gradients against float64 finite differences, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addon } from "../../src/backend/addon";
import { Generator, Tensor, backendInfo, fromArray, getIsa, getNumThreads, randn, setIsa, setNumThreads, wrap, zeros } from "../../src";
import { linear, matmul } from "../../src/ops/matmul";
import { gradCheck } from "./gradcheck";

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  new Generator(seed).normal(a);
  return a;
}

/** float64 C = op(A) op(B) for row-major arrays. */
function reference(ta: boolean, tb: boolean, m: number, n: number, k: number, a: ArrayLike<number>, lda: number, b: ArrayLike<number>, ldb: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * n + j] = s;
    }
  return c;
}

/** Largest |c - ref| over sum_k |a||b| (the float32 error bound scale) for each element. */
function maxScaledError(c: Float32Array, ref: Float64Array, ta: boolean, tb: boolean, m: number, n: number, k: number, a: Float32Array, lda: number, b: Float32Array, ldb: number): number {
  let worst = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let scale = 1e-30;
      for (let p = 0; p < k; p++) scale += Math.abs((ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]));
      worst = Math.max(worst, Math.abs(c[i * n + j] - ref[i * n + j]) / scale);
    }
  return worst;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [13, 37, 29],
  [12, 32, 256],
  [25, 65, 257],
  [130, 70, 600],
  [3, 4100, 5], // more columns than one 4096-column block
];

test("sgemm matches float64 for every variant, transposes, leading dimensions and beta", () => {
  const isaBefore = getIsa();
  const variants = backendInfo().families.find((f) => f.name === "gemm")!.available;
  assert.ok(variants.includes("scalar"));
  try {
    for (const isa of variants) {
      setIsa(isa as "scalar");
      for (const [m, n, k] of SHAPES) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const lda = (ta ? m : k) + 3;
          const ldb = (tb ? k : n) + 1;
          const a = randomArray((ta ? k : m) * lda, m + 7 * k);
          const b = randomArray((tb ? n : k) * ldb, n + 3 * k);
          const ref = reference(ta, tb, m, n, k, a, lda, b, ldb);
          const c = new Float32Array(m * n).fill(NaN); // beta = 0 must not read C
          addon().sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
          const err = maxScaledError(c, ref, ta, tb, m, n, k, a, lda, b, ldb);
          assert.ok(err < 2e-6 * Math.sqrt(k) + 1e-6, `${isa} ${m}x${n}x${k} ta=${ta} tb=${tb}: error ${err}`);
          // alpha and beta: C = 0.5 * AB + 2 * C
          const c2 = Float32Array.from(c);
          addon().sgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, c2, n);
          for (let i = 0; i < c.length; i += Math.max(1, Math.floor(c.length / 50))) {
            assert.ok(Math.abs(c2[i] - 2.5 * c[i]) <= 1e-4 * (1 + Math.abs(c[i])) * Math.sqrt(k), `${isa} alpha/beta at ${i}: ${c2[i]} vs ${2.5 * c[i]}`);
          }
        }
      }
    }
  } finally {
    setIsa(isaBefore as "scalar");
  }
});

test("sgemm gives bit-identical results at 1 and 2 threads (threads split C, never k)", () => {
  const before = getNumThreads();
  try {
    for (const [m, n, k] of [[301, 200, 300], [2, 700, 513], [1000, 9, 40]] as const) {
      const a = randomArray(m * k, 1), b = randomArray(k * n, 2);
      const results: Float32Array[] = [];
      for (const t of [1, 2]) {
        setNumThreads(t);
        const c = new Float32Array(m * n);
        addon().sgemm(false, true, m, n, k, 1, a, k, b.subarray(0, n * k), k, 0, c, n);
        results.push(c);
      }
      assert.deepEqual(results[0], results[1], `${m}x${n}x${k}`);
    }
  } finally {
    setNumThreads(before);
  }
});

test("sgemm: k = 0 and alpha = 0 give beta * C; empty shapes are no-ops", () => {
  const c = Float32Array.from([1, 2, 3, 4]);
  addon().sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, new Float32Array(0), 2, 3, c, 2);
  assert.deepEqual(Array.from(c), [3, 6, 9, 12]);
  addon().sgemm(false, false, 2, 2, 1, 0, new Float32Array([NaN, NaN]), 1, new Float32Array([1, 1]), 2, 0, c, 2);
  assert.deepEqual(Array.from(c), [0, 0, 0, 0]);
});

test("matmul: 2-d, batched with broadcasting, vectors, and transposed views without copies", () => {
  gradCheck({
    name: "matmul 2-d",
    inputs: [{ shape: [5, 7] }, { shape: [7, 3] }],
    ours: (a, b) => matmul(a, b),
    reference: (a, b) => reference(false, false, 5, 3, 7, a, 7, b, 3),
  });
  gradCheck({
    name: "matmul batched [2,1,3,4] @ [3,4,2]",
    inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }],
    ours: (a, b) => matmul(a, b),
    reference: (a, b) => {
      const out = new Float64Array(2 * 3 * 3 * 2);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let r = 0; r < 3; r++)
            for (let c = 0; c < 2; c++) {
              let s = 0;
              for (let p = 0; p < 4; p++) s += a[i * 12 + r * 4 + p] * b[j * 8 + p * 2 + c];
              out[((i * 3 + j) * 3 + r) * 2 + c] = s;
            }
      return out;
    },
  });
  gradCheck({
    name: "matmul vector @ matrix and matrix @ vector",
    inputs: [{ shape: [4] }, { shape: [4, 3] }],
    ours: (v, w) => matmul(matmul(v, w), matmul(w.transpose(0, 1), v)).reshape([1]),
    reference: (v, w) => {
      const vw = [0, 1, 2].map((c) => [0, 1, 2, 3].reduce((s, p) => s + v[p] * w[p * 3 + c], 0));
      return Float64Array.of(vw.reduce((s, x, c) => s + x * vw[c], 0));
    },
  });
  gradCheck({
    name: "matmul of transposed and sliced views",
    inputs: [{ shape: [6, 5] }, { shape: [4, 6] }],
    ours: (a, b) => matmul(a.transpose(0, 1), b.transpose(0, 1).slice(1, 1, 4)),
    reference: (a, b) => {
      const out = new Float64Array(5 * 3);
      for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) for (let p = 0; p < 6; p++) out[i * 3 + j] += a[p * 5 + i] * b[(j + 1) * 6 + p];
      return out;
    },
  });
});

test("linear: x @ W^T over [B, T, K] inputs, gradients for x and W", () => {
  gradCheck({
    name: "linear",
    inputs: [{ shape: [2, 3, 5] }, { shape: [4, 5] }],
    ours: (x, w) => linear(x, w),
    reference: (x, w) => {
      const out = new Float64Array(6 * 4);
      for (let r = 0; r < 6; r++) for (let j = 0; j < 4; j++) for (let p = 0; p < 5; p++) out[r * 4 + j] += x[r * 5 + p] * w[j * 5 + p];
      return out;
    },
  });
  gradCheck({
    name: "linear of a transposed weight view and a strided x",
    inputs: [{ shape: [5, 3] }, { shape: [5, 4] }],
    ours: (x, w) => linear(x.transpose(0, 1), w.transpose(0, 1)),
    reference: (x, w) => {
      const out = new Float64Array(3 * 4);
      for (let r = 0; r < 3; r++) for (let j = 0; j < 4; j++) for (let p = 0; p < 5; p++) out[r * 4 + j] += x[p * 3 + r] * w[p * 4 + j];
      return out;
    },
  });
});

test("matmul and linear reject bad input with named errors", () => {
  const a = zeros([2, 3]);
  assert.throws(() => matmul(a, zeros([4, 2])), /^RangeError: matmul: inner dimensions differ: a is \[2, 3\] \(K = 3\), b is \[4, 2\] \(K = 4\)$/);
  assert.throws(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1])), /matmul: shapes \[2\] and \[3\] do not broadcast/);
  assert.throws(() => matmul(fromArray([1], { dtype: "i32" }) as unknown as Tensor<"f32">, a), /matmul: a must have dtype 'f32', received 'i32'/);
  assert.throws(() => matmul(a, 3 as unknown as Tensor<"f32">), /matmul: b must be a Tensor, received 3/);
  assert.throws(() => linear(zeros([2, 4]), zeros([5, 3])), /linear: x's last dimension must be 3 \(weight is \[5, 3\]\), received \[2, 4\]/);
  assert.throws(() => linear(zeros([2, 3]), zeros([3])), /linear: weight must be 2-d, received shape \[3\]/);
  const d = zeros([3, 3]);
  d.dispose();
  assert.throws(() => matmul(d, a), /matmul: a was disposed/);
});

test("linear on a large batch matches float64 (the GEMM path with row blocks and k blocks)", () => {
  const x = randn([3, 100, 300], { seed: 5 });
  const w = randn([70, 300], { seed: 6 });
  const y = linear(x, w);
  const xd = x.data(), wd = w.data(), yd = y.data();
  let worst = 0;
  for (let r = 0; r < 300; r += 7)
    for (let j = 0; j < 70; j += 3) {
      let s = 0, scale = 0;
      for (let p = 0; p < 300; p++) {
        s += xd[r * 300 + p] * wd[j * 300 + p];
        scale += Math.abs(xd[r * 300 + p] * wd[j * 300 + p]);
      }
      worst = Math.max(worst, Math.abs(yd[r * 70 + j] - s) / scale);
    }
  assert.ok(worst < 1e-5, `relative error ${worst}`);
  void wrap;
  for (const t of [x, w, y]) t.dispose();
});

test("sgemmBf16: every variant within the bf16 rounding bound of float64 (each operand rounded by <= 2^-8: a product by <= 2^-7)", () => {
  const isaBefore = getIsa();
  const variants = backendInfo().families.find((f) => f.name === "gemm")!.available;
  try {
    for (const isa of variants) {
      setIsa(isa as "scalar");
      for (const [m, n, k] of SHAPES) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const lda = (ta ? m : k) + 1;
          const ldb = (tb ? k : n) + 2;
          const a = randomArray((ta ? k : m) * lda, m + 11 * k);
          const b = randomArray((tb ? n : k) * ldb, n + 5 * k);
          const ref = reference(ta, tb, m, n, k, a, lda, b, ldb);
          const c = new Float32Array(m * n).fill(NaN);
          addon().sgemmBf16(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
          const err = maxScaledError(c, ref, ta, tb, m, n, k, a, lda, b, ldb);
          assert.ok(err < 2 ** -7 + 1e-5, `${isa} ${m}x${n}x${k} ta=${ta} tb=${tb}: error ${err}`);
        }
      }
    }
  } finally {
    setIsa(isaBefore as "scalar");
  }
});

test("sgemmBf16 without bf16 instructions is the fp32 product, bit for bit; backendInfo says which", () => {
  const isaBefore = getIsa();
  try {
    for (const isa of backendInfo().isa.supported) {
      setIsa(isa as "scalar");
      const native = backendInfo().bf16Gemm;
      assert.equal(native, isa === "avx512" ? "native" : "fp32", isa);
      if (native === "native") continue;
      for (const [m, n, k] of SHAPES) {
        const a = randomArray(m * k, m + k), b = randomArray(k * n, n + 3 * k);
        const c = new Float32Array(m * n), ref = new Float32Array(m * n);
        addon().sgemmBf16(false, true, m, n, k, 1, a, k, b, k, 0, c, n);
        addon().sgemm(false, true, m, n, k, 1, a, k, b, k, 0, ref, n);
        assert.deepEqual(c, ref, `${isa} ${m}x${n}x${k}`);
      }
    }
  } finally {
    setIsa(isaBefore as "scalar");
  }
});
