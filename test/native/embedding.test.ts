// The embedding family: lookup and gradient equal the plain loops bit for bit (the same float32
// additions in row order) in every ISA variant and at 1 and 2 threads, repeated ids included;
// the public embedding op takes the kernel for large inputs and its gradient is unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as native from "../../src/backend/kernels";
import { backendInfo, embedding, fromArray, getIsa, getNumThreads, Isa, mul, randn, setIsa, setNumThreads, sum, tidy } from "../../src";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test("embeddingForward and embeddingBackward equal the plain loops in every ISA and thread count", () => {
  const rand = lcg(7);
  const V = 37, D = 203, N = 1500; // D not a multiple of 16; ids repeat
  const w = Float32Array.from({ length: V * D }, () => rand() * 2 - 1);
  const g = Float32Array.from({ length: N * D }, () => rand() * 2 - 1);
  const ids = Int32Array.from({ length: N }, () => Math.floor(rand() * V));
  const refOut = new Float32Array(N * D);
  for (let i = 0; i < N; i++) refOut.set(w.subarray(ids[i] * D, ids[i] * D + D), i * D);
  const start = Float32Array.from({ length: V * D }, () => rand());
  const refDw = start.slice();
  for (let i = 0; i < N; i++) for (let k = 0; k < D; k++) refDw[ids[i] * D + k] += g[i * D + k];
  const isa = getIsa();
  const threads = getNumThreads();
  try {
    for (const level of backendInfo().isa.supported) {
      for (const t of [1, 2]) {
        setIsa(level as Isa);
        setNumThreads(t);
        const out = new Float32Array(N * D);
        native.embeddingForward(w, V, D, ids, out);
        assert.deepEqual(out, refOut, `forward, ${level}, ${t} threads`);
        const dw = start.slice();
        native.embeddingBackward(g, ids, V, D, dw);
        assert.deepEqual(dw, refDw, `backward, ${level}, ${t} threads (bit for bit)`);
      }
    }
  } finally {
    setIsa(isa as Isa);
    setNumThreads(threads);
  }
});

test("the embedding op takes the kernel above the native threshold; values and gradient match a float64 reference", () => {
  tidy(() => {
    const V = 50, D = 128, N = 400; // N * D = 51200 >= NATIVE_MIN_ELEMENTS
    assert.ok(N * D >= native.NATIVE_MIN_ELEMENTS);
    const weight = randn([V, D], { seed: 3 }).requiresGrad_();
    const ids = fromArray(Array.from({ length: N }, (_, i) => (i * 7) % V), { dtype: "i32" });
    const y = embedding(weight, ids);
    const w = weight.toFloat32Array();
    const yd = y.toFloat32Array();
    for (let i = 0; i < N; i++) for (let k = 0; k < D; k++) assert.equal(yd[i * D + k], w[((i * 7) % V) * D + k]);
    // d(sum(y * c))/dw[v] = sum of c over the rows that looked v up.
    const c = randn([N, D], { seed: 4 });
    sum(mul(y, c)).backward();
    const cd = c.toFloat32Array();
    const expected = new Float64Array(V * D);
    for (let i = 0; i < N; i++) for (let k = 0; k < D; k++) expected[((i * 7) % V) * D + k] += cd[i * D + k];
    const got = weight.grad!.toFloat32Array();
    for (let j = 0; j < V * D; j++) assert.ok(Math.abs(got[j] - expected[j]) <= 1e-5 * (1 + Math.abs(expected[j])), `grad[${j}] ${got[j]} vs ${expected[j]}`);
  });
});
