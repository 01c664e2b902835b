// The decode attention kernel (one query position against a KV cache, f32 or f16): every ISA
// variant against a float64 softmax-attention reference, grouped heads, odd head sizes, caches
// of one key and of hundreds, and independence from the thread count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addon } from "../../src/backend/addon";
import { backendInfo, setIsa, setNumThreads, getNumThreads } from "../../src";
import { f16BitsToNumber, numberToF16Bits } from "../../src/tensor/half";
import { Generator } from "../../src/tensor/random";

function reference(q: Float32Array, k: ArrayLike<number>, v: ArrayLike<number>, kvLen: number, Hq: number, Hkv: number, hd: number, scale: number): Float64Array {
  const out = new Float64Array(Hq * hd);
  const group = Hq / Hkv;
  for (let h = 0; h < Hq; h++) {
    const g = Math.floor(h / group);
    const s = new Float64Array(kvLen);
    for (let j = 0; j < kvLen; j++) {
      let d = 0;
      for (let i = 0; i < hd; i++) d += q[h * hd + i] * k[(j * Hkv + g) * hd + i];
      s[j] = d * scale;
    }
    const m = Math.max(...s);
    let l = 0;
    for (let j = 0; j < kvLen; j++) l += (s[j] = Math.exp(s[j] - m));
    for (let j = 0; j < kvLen; j++) for (let i = 0; i < hd; i++) out[h * hd + i] += (s[j] / l) * v[(j * Hkv + g) * hd + i];
  }
  return out;
}

function normal(g: Generator, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  g.normal(a, 0, scale);
  return a;
}

test("attentionDecode: f32 and f16 caches, every variant and thread count, against float64 (grouped heads, 1 to 300 keys)", () => {
  const isas = backendInfo().isa.supported;
  const before = getNumThreads();
  const g = new Generator(3);
  try {
    for (const [kvLen, Hq, Hkv, hd] of [[1, 4, 2, 8], [7, 20, 5, 128], [300, 8, 8, 64], [33, 6, 3, 13]]) {
      const q = normal(g, Hq * hd, 1);
      const kf = normal(g, kvLen * Hkv * hd, 1);
      const vf = normal(g, kvLen * Hkv * hd, 1);
      const kh = Uint16Array.from(kf, numberToF16Bits);
      const vh = Uint16Array.from(vf, numberToF16Bits);
      const scale = 1 / Math.sqrt(hd);
      const cases: [string, Float32Array | Uint16Array, Float32Array | Uint16Array, Float64Array][] = [
        ["f32", kf, vf, reference(q, kf, vf, kvLen, Hq, Hkv, hd, scale)],
        ["f16", kh, vh, reference(q, Array.from(kh, f16BitsToNumber), Array.from(vh, f16BitsToNumber), kvLen, Hq, Hkv, hd, scale)],
      ];
      for (const [format, k, v, ref] of cases) {
        let first: Float32Array | null = null;
        for (const isa of isas) {
          setIsa(isa as "scalar");
          for (const threads of [1, 2]) {
            setNumThreads(threads);
            const out = new Float32Array(Hq * hd);
            addon().attentionDecode(q, k, v, kvLen, Hq, Hkv, hd, scale, out);
            for (let i = 0; i < out.length; i++) {
              assert.ok(Math.abs(out[i] - ref[i]) <= 2e-6 * Math.sqrt(hd) + 1e-6 * Math.abs(ref[i]), `${format} ${isa} ${threads}t [kv ${kvLen}, ${Hq}/${Hkv} heads, hd ${hd}] ${i}: ${out[i]} vs ${ref[i]}`);
            }
            if (first === null || threads === 1) first = out;
            else assert.deepEqual(out, first, `${format} ${isa}: the thread count changes nothing`);
          }
        }
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
});
