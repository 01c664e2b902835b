// Dense weight formats and the dense GEMV/small-GEMM kernels: every ISA variant against a float64
// reference (float formats), bit-identical int32 dots across variants and thread counts (int8),
// the storage rules of each format and the error they cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DenseWeights, denseMatmul, fromArray, denseWeightBytes, backendInfo, setIsa, setNumThreads, getNumThreads, randn, Tensor, memoryStats } from "../../src";
import { f16BitsToNumber, bf16BitsToNumber } from "../../src/tensor/half";
import { addon } from "../../src/backend/addon";

const isas = backendInfo().isa.supported;

function eachIsa<T>(fn: (isa: string) => T): Map<string, T> {
  const out = new Map<string, T>();
  try {
    for (const isa of isas) {
      setIsa(isa as "scalar");
      out.set(isa, fn(isa));
    }
  } finally {
    setIsa("auto");
  }
  return out;
}

/** x [m, k] . w[n]^T in float64 from the stored (dequantized) weights. */
function reference(x: Float32Array, m: number, k: number, wf: Float32Array, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += x[i * k + c] * wf[j * k + c];
    out[i * n + j] = s;
  }
  return out;
}

test("float formats: every variant within float32 rounding of a float64 dot over the stored weights (GEMV and small batches, odd sizes)", () => {
  for (const [m, k, n] of [[1, 2560, 37], [1, 300, 9], [1, 100, 7], [3, 300, 9], [8, 17, 5], [1, 1, 1], [5, 64, 130]]) {
    const x = randn([m, k], { seed: m + k });
    const w = randn([n, k], { seed: n * 7 + k });
    for (const format of ["f32", "f16", "bf16"] as const) {
      const dw = DenseWeights.from(w, format);
      const stored = dw.toFloat32();
      const ref = reference(x.data(), m, k, stored.data(), n);
      // Bound: k products each rounded once and summed in float32: |err| <= k * eps * sum|x||w|.
      const bound = new Float64Array(m * n);
      const xd = x.data(), sd = stored.data();
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.abs(xd[i * k + c] * sd[j * k + c]);
        bound[i * n + j] = (k + 2) * 2 ** -24 * s + 1e-30;
      }
      for (const [isa, out] of eachIsa(() => denseMatmul(x, dw))) {
        const o = out.data();
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(o[i] - ref[i]) <= bound[i], `${format} ${isa} [${m},${k},${n}] element ${i}: ${o[i]} vs ${ref[i]}`);
        out.dispose();
      }
      stored.dispose();
      dw.dispose();
    }
    x.dispose();
    w.dispose();
  }
});

test("f16/bf16 storage rounds each weight to nearest even; readRow returns the stored row", () => {
  const w = fromArray([[1 + 2 ** -11, 1 / 3, -65504, 1e-8], [0.1, -0.2, 3.5, 7e4]]);
  const f16 = DenseWeights.from(w, "f16");
  const bf16 = DenseWeights.from(w, "bf16");
  const bits16 = f16.data.data() as Uint16Array;
  const bitsb = bf16.data.data() as Uint16Array;
  const row = new Float32Array(4);
  f16.readRow(1, row);
  assert.deepEqual(Array.from(row), Array.from(bits16.subarray(4, 8), f16BitsToNumber));
  assert.equal(f16BitsToNumber(bits16[0]), 1, "1 + 2^-11 is a tie: rounds to even (1)");
  assert.equal(f16BitsToNumber(bits16[7]), Infinity, "7e4 overflows f16");
  bf16.readRow(0, row);
  assert.deepEqual(Array.from(row), Array.from(bitsb.subarray(0, 4), bf16BitsToNumber));
  assert.equal(f16.bytes, 16);
  assert.equal(denseWeightBytes("int8", 2, 4), 2 * (256 + 4));
  for (const t of [w, f16, bf16]) t.dispose();
});

test("int8 per row: s = 127 / max|row|, rows padded to 256 with zeros; dots are exact int32 and identical in every variant and thread count", () => {
  for (const m of [1, 4]) {
    const k = 300, n = 67;
    const w = randn([n, k], { seed: 11 });
    w.data()[5] = 0; // a row max elsewhere
    const dw = DenseWeights.from(w, "int8");
    assert.deepEqual(dw.data.shape, [n, 512]);
    const q = dw.data.data() as Int8Array;
    const s = (dw.scales as Tensor<"f32">).data();
    const wd = w.data();
    for (let r = 0; r < n; r++) {
      let amax = 0;
      for (let c = 0; c < k; c++) amax = Math.max(amax, Math.abs(wd[r * k + c]));
      assert.equal(s[r], Math.fround(127 / Math.fround(amax)), `scale of row ${r}`);
      for (let c = 0; c < k; c++) assert.ok(Math.abs(q[r * 512 + c] - wd[r * k + c] * s[r]) <= 0.5 + 1e-4, `q[${r},${c}]`);
      for (let c = k; c < 512; c++) assert.equal(q[r * 512 + c], 0, "padding");
    }
    const x = randn([m, k], { seed: 12 });
    // Reference: the activation rule in float32, exact integer dots, / (sx * sw) in float64.
    const xd = x.data();
    const expected = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      let amax = 0;
      for (let c = 0; c < k; c++) amax = Math.max(amax, Math.abs(xd[i * k + c]));
      const sx = Math.fround(127 / Math.max(Math.fround(amax), 1e-5));
      const xq = new Int32Array(k);
      for (let c = 0; c < k; c++) {
        const v = Math.fround(xd[i * k + c] * sx);
        const r = Math.round(v);
        xq[c] = Math.max(-128, Math.min(127, Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r));
      }
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < k; c++) dot += xq[c] * q[j * 512 + c];
        expected[i * n + j] = Math.fround(dot / (sx * s[j]));
      }
    }
    const before = getNumThreads();
    try {
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        for (const [isa, out] of eachIsa(() => denseMatmul(x, dw))) {
          assert.deepEqual(Array.from(out.data()), Array.from(expected), `int8 ${isa} at ${threads} threads`);
          out.dispose();
        }
      }
    } finally {
      setNumThreads(before);
    }
    // The int8 product's error against the f32 product is what the format costs: report it.
    const f = DenseWeights.from(w, "f32");
    const exact = denseMatmul(x, f);
    const approx = denseMatmul(x, dw);
    let worst = 0, norm = 0;
    for (let i = 0; i < m * n; i++) {
      worst = Math.max(worst, Math.abs(exact.data()[i] - approx.data()[i]));
      norm = Math.max(norm, Math.abs(exact.data()[i]));
    }
    assert.ok(worst / norm < 0.03, `int8 error ${worst} against a largest value of ${norm}`);
    for (const t of [w, x, dw, f, exact, approx]) t.dispose();
  }
});

test("int8 dots are exact for every int8 value (-128 in weights and activations included), in every variant, batch size and thread count", () => {
  // The quantizers never produce -128 activations, but the kernels promise exact dots for any
  // input: the AVX2 kernel's fast form (|w| times x with w's sign) cannot negate -128.
  const k = 192, n = 11;
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (const m of [1, 3]) {
    for (const extremes of [false, true]) {
      const x = Int8Array.from({ length: m * k }, () => (extremes && next() % 4 === 0 ? -128 : (next() % 255) - 127));
      const w = Int8Array.from({ length: n * k }, () => (next() % 3 === 0 ? -128 : next() % 3 === 1 ? 127 : (next() % 256) - 128));
      const expected = new Float32Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < k; c++) dot += x[i * k + c] * w[j * k + c];
        expected[i * n + j] = dot;
      }
      const ones = (len: number): Float32Array => new Float32Array(len).fill(1);
      const before = getNumThreads();
      try {
        for (const threads of [1, 2]) {
          setNumThreads(threads);
          for (const [isa, out] of eachIsa(() => {
            const o = new Float32Array(m * n);
            addon().denseMatmul(x, m, k, w, "int8", n, ones(m), ones(n), o);
            return o;
          })) {
            assert.deepEqual(Array.from(out), Array.from(expected), `m=${m} extremes=${extremes} ${isa} at ${threads} threads`);
          }
        }
      } finally {
        setNumThreads(before);
      }
    }
  }
});

test("bad input: wrong shapes, formats and disposed weights are named errors; nothing leaks", () => {
  const before = memoryStats().liveTensors;
  const w = randn([3, 8], { seed: 1 });
  assert.throws(() => DenseWeights.from(w, "int4" as "int8"), /DenseWeights.from: format must be one of 'f32', 'f16', 'bf16', 'int8', received .int4./);
  assert.throws(() => DenseWeights.from(randn([8], { seed: 2 }), "f16"), /w must be a 2-d f32, f16 or bf16 tensor, received f32 \[8\]/);
  const dw = DenseWeights.from(w, "f16");
  const x = randn([2, 7], { seed: 3 });
  assert.throws(() => denseMatmul(x, dw), /denseMatmul: x must be an f32 \[M, 8\] tensor \(cols of w\)/);
  assert.throws(() => dw.readRow(3, new Float32Array(8)), /row must be an integer in \[0, 3\), received 3/);
  assert.throws(() => dw.readRow(0, new Float32Array(7)), /out has no room for 8 values at offset 0/);
  assert.throws(() => new DenseWeights("int8", 3, 8, Tensor.empty([3, 256], "i8"), fromArray([1, 0, 1])), /scales\[1\] must be finite and positive, received 0/);
  assert.throws(() => new DenseWeights("f16", 3, 8, Tensor.empty([3, 8], "f32")), /f16 data must be a contiguous f16 \[3, 8\] tensor, received f32 \[3, 8\]/);
  dw.dispose();
  assert.throws(() => denseMatmul(randn([1, 8], { seed: 4 }), dw), /w must be live DenseWeights/);
  w.dispose();
  x.dispose();
  if (typeof global.gc === "function") global.gc();
  assert.ok(memoryStats().liveTensors - before <= 8, "only the throwaway inputs of the assertions may await collection");
});
