// RoPE and causal attention against float64 references written from the PyTorch formulas
// (rope_tables / apply_rope / masked softmax attention), on the [B, T, H, hd] layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, fromArray, wrap, Generator, backendInfo, getNumThreads, setIsa, setNumThreads, zeroGrad } from "../../src";
import { ropeTables, rope, causalAttention, RopeTables } from "../../src/ops/attention";
import { addon } from "../../src/backend/addon";
import { gradCheck } from "./gradcheck";

/** float64 rope_tables for positions offset .. offset + T - 1: [T, hd/2] each. */
function ropeTables64(T: number, hd: number, offset = 0, theta = 10000): { cos: Float64Array; sin: Float64Array } {
  const half = hd / 2;
  const cos = new Float64Array(T * half);
  const sin = new Float64Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const ang = (offset + t) * (1 / Math.pow(theta, (2 * i) / hd));
      cos[t * half + i] = Math.cos(ang);
      sin[t * half + i] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

/** apply_rope on x [B, T, H, hd] (row-major), positions offset .. offset + T - 1. */
function rope64(x: Float64Array, B: number, T: number, H: number, hd: number, offset = 0): Float64Array {
  const { cos, sin } = ropeTables64(T, hd, offset);
  const h = hd / 2;
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let hh = 0; hh < H; hh++) {
        const o = ((b * T + t) * H + hh) * hd;
        for (let i = 0; i < h; i++) {
          const x1 = x[o + i];
          const x2 = x[o + h + i];
          out[o + i] = x1 * cos[t * h + i] - x2 * sin[t * h + i];
          out[o + h + i] = x1 * sin[t * h + i] + x2 * cos[t * h + i];
        }
      }
    }
  }
  return out;
}

/**
 * The reference's attention on our layout: for each (b, h) the [T, hd] matrices q, k, v of that
 * head (kv head h / (Hq / Hkv)), att = q k^T * scale, masked_fill(s > t, -inf), softmax over s
 * (max subtracted), y = att v.
 */
function attention64(q: Float64Array, k: Float64Array, v: Float64Array, B: number, T: number, Hq: number, Hkv: number, hd: number, scale = 1 / Math.sqrt(hd)): Float64Array {
  const y = new Float64Array(B * T * Hq * hd);
  const qi = (b: number, t: number, h: number, i: number): number => ((b * T + t) * Hq + h) * hd + i;
  const ki = (b: number, t: number, h: number, i: number): number => ((b * T + t) * Hkv + h) * hd + i;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / (Hq / Hkv));
      for (let t = 0; t < T; t++) {
        const att = new Float64Array(T);
        for (let s = 0; s < T; s++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[qi(b, t, h, i)] * k[ki(b, s, kh, i)];
          att[s] = s > t ? -Infinity : dot * scale;
        }
        const max = Math.max(...att);
        let sum = 0;
        for (let s = 0; s < T; s++) sum += (att[s] = Math.exp(att[s] - max));
        for (let s = 0; s < T; s++) att[s] /= sum;
        for (let i = 0; i < hd; i++) {
          let acc = 0;
          for (let s = 0; s < T; s++) acc += att[s] * v[ki(b, s, kh, i)];
          y[qi(b, t, h, i)] = acc;
        }
      }
    }
  }
  return y;
}

interface Attention64 {
  out: Float64Array;
  lse: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

/**
 * Forward and analytic backward in float64 with a KV cache: q [B, Tq, Hq, hd], k and v
 * [B, Tk, Hkv, hd], query t attends keys s <= t + Tk - Tq; g is the gradient of out. With
 * P = softmax(scale q k^T): dP = g v^T, dS = P (dP - rowsum(P dP)) scale, dq = dS k,
 * dk = dS^T q, dv = P^T g (summed over the query heads of each kv head).
 */
function attentionFull64(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, g: ArrayLike<number>, B: number, Tq: number, Tk: number, Hq: number, Hkv: number, hd: number, scale: number): Attention64 {
  const r: Attention64 = {
    out: new Float64Array(B * Tq * Hq * hd),
    lse: new Float64Array(B * Hq * Tq),
    dq: new Float64Array(B * Tq * Hq * hd),
    dk: new Float64Array(B * Tk * Hkv * hd),
    dv: new Float64Array(B * Tk * Hkv * hd),
  };
  const qi = (b: number, t: number, h: number): number => ((b * Tq + t) * Hq + h) * hd;
  const ki = (b: number, s: number, h: number): number => ((b * Tk + s) * Hkv + h) * hd;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / (Hq / Hkv));
      for (let t = 0; t < Tq; t++) {
        const n = t + Tk - Tq + 1;
        const p = new Float64Array(n);
        for (let s = 0; s < n; s++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[qi(b, t, h) + i] * k[ki(b, s, kh) + i];
          p[s] = dot * scale;
        }
        const max = Math.max(...p);
        let sum = 0;
        for (let s = 0; s < n; s++) sum += (p[s] = Math.exp(p[s] - max));
        for (let s = 0; s < n; s++) p[s] /= sum;
        r.lse[(b * Hq + h) * Tq + t] = max + Math.log(sum);
        const o = qi(b, t, h);
        for (let s = 0; s < n; s++) for (let i = 0; i < hd; i++) r.out[o + i] += p[s] * v[ki(b, s, kh) + i];
        let d = 0;
        for (let i = 0; i < hd; i++) d += g[o + i] * r.out[o + i];
        for (let s = 0; s < n; s++) {
          let dp = 0;
          for (let i = 0; i < hd; i++) dp += g[o + i] * v[ki(b, s, kh) + i];
          const ds = p[s] * (dp - d) * scale;
          for (let i = 0; i < hd; i++) {
            r.dq[o + i] += ds * k[ki(b, s, kh) + i];
            r.dk[ki(b, s, kh) + i] += ds * q[o + i];
            r.dv[ki(b, s, kh) + i] += p[s] * g[o + i];
          }
        }
      }
    }
  }
  return r;
}

/**
 * Largest |ours - ref| relative to max(1, max |ref|). Float32 rounding (6e-8 relative) summed
 * over the up to ~T terms of a dot, a softmax sum or a gradient row gives ~sqrt(T) * 6e-8, about
 * 1e-6 at T = 128 (observed: at most 9e-7 on every ISA, as for the plain-loop kernels), so
 * kTolerance = 4e-6 leaves a 4x margin while a wrong mask or a missing or extra key (an error of
 * order 1e-2 and more) fails.
 */
const kTolerance = 4e-6;
function checkClose(name: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tolerance = kTolerance): void {
  assert.equal(ours.length, ref.length, `${name}: length`);
  let scale = 1;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  let worst = 0;
  let at = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(ours[i] - ref[i]) / scale;
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= tolerance, `${name}: element ${at}: ${ours[at]} vs ${ref[at]} (error ${worst.toExponential(2)} of ${scale.toFixed(2)})`);
}

function randomF32(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  new Generator(seed).normal(a);
  return a;
}

test("ropeTables: float64 angles rounded to f32, positions from offset", () => {
  for (const [T, hd, offset] of [[3, 4, 0], [5, 8, 7], [1, 2, 100]]) {
    const { cos, sin } = ropeTables(T, hd, 10000, offset);
    const ref = ropeTables64(T, hd, offset);
    assert.equal(cos.length, (T * hd) / 2);
    assert.equal(sin.length, (T * hd) / 2);
    for (let i = 0; i < cos.length; i++) {
      assert.equal(cos[i], Math.fround(ref.cos[i]), `cos[${i}]`);
      assert.equal(sin[i], Math.fround(ref.sin[i]), `sin[${i}]`);
    }
  }
  // Position 0 is the identity rotation; a table with offset is a slice of a longer one.
  const full = ropeTables(8, 6);
  for (let i = 0; i < 3; i++) {
    assert.equal(full.cos[i], 1);
    assert.equal(full.sin[i], 0);
  }
  const tail = ropeTables(3, 6, 10000, 5);
  assert.deepEqual([...tail.cos], [...full.cos.subarray(15, 24)]);
  assert.deepEqual([...tail.sin], [...full.sin.subarray(15, 24)]);
  // theta is honoured.
  const t2 = ropeTables(2, 4, 100);
  assert.equal(t2.cos[3], Math.fround(Math.cos(1 / 10)));
});

test("rope: forward and gradient, offset 0 and 5 (tables with an offset, or rows selected by opts.offset)", () => {
  const [B, T, H, hd] = [2, 3, 2, 4];
  for (const offset of [0, 5]) {
    gradCheck({
      name: `rope offset ${offset} (tables)`,
      inputs: [{ shape: [B, T, H, hd] }],
      ours: (x) => rope(x, ropeTables(T, hd, 10000, offset)),
      reference: (x) => rope64(x, B, T, H, hd, offset),
      seed: 3 + offset,
    });
    gradCheck({
      name: `rope offset ${offset} (opts.offset)`,
      inputs: [{ shape: [B, T, H, hd] }],
      ours: (x) => rope(x, ropeTables(offset + T + 2, hd), { offset }),
      reference: (x) => rope64(x, B, T, H, hd, offset),
      seed: 4 + offset,
    });
  }
});

test("rope: single position, single head, hd 2; strided input", () => {
  gradCheck({
    name: "rope [1, 1, 1, 2] at position 3",
    inputs: [{ shape: [1, 1, 1, 2] }],
    ours: (x) => rope(x, ropeTables(1, 2, 10000, 3)),
    reference: (x) => rope64(x, 1, 1, 1, 2, 3),
  });
  // x given as a transposed view of a [B, H, T, hd] tensor.
  const [B, T, H, hd] = [2, 3, 2, 4];
  gradCheck({
    name: "rope on a permuted view",
    inputs: [{ shape: [B, H, T, hd] }],
    ours: (x) => rope(x.transpose(1, 2), ropeTables(T, hd)),
    reference: (x) => {
      const xt = new Float64Array(x.length);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let t = 0; t < T; t++) for (let i = 0; i < hd; i++) xt[((b * T + t) * H + h) * hd + i] = x[((b * H + h) * T + t) * hd + i];
      return rope64(xt, B, T, H, hd);
    },
  });
});

test("rope preserves the norm of every vector and its backward is the inverse rotation", () => {
  const [B, T, H, hd] = [1, 4, 3, 8];
  const xs = randomF32(B * T * H * hd, 11);
  const x = wrap(xs, { shape: [B, T, H, hd], dtype: "f32" }).requiresGrad_();
  const tables = ropeTables(T, hd, 10000, 2);
  const y = rope(x, tables);
  const yd = y.toFloat32Array();
  for (let r = 0; r < B * T * H; r++) {
    let a = 0;
    let c = 0;
    for (let i = 0; i < hd; i++) {
      a += xs[r * hd + i] ** 2;
      c += yd[r * hd + i] ** 2;
    }
    assert.ok(Math.abs(a - c) <= 1e-5 * a, `norm of vector ${r}`);
  }
  // Backward of y's own values rotates them back to x.
  y.backward(wrap(yd.slice(), { shape: [B, T, H, hd], dtype: "f32" }));
  const back = x.grad!.toFloat32Array();
  for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(back[i] - xs[i]) <= 1e-5, `element ${i}`);
  x.grad!.dispose();
  y.dispose();
  x.dispose();
});

test("causalAttention: forward and gradients, Hq = Hkv (B=1, T=4, H=2, hd=3)", () => {
  const [B, T, H, hd] = [1, 4, 2, 3];
  gradCheck({
    name: "causalAttention MHA",
    inputs: [{ shape: [B, T, H, hd] }, { shape: [B, T, H, hd] }, { shape: [B, T, H, hd] }],
    ours: (q, k, v) => causalAttention(q, k, v),
    reference: (q, k, v) => attention64(q, k, v, B, T, H, H, hd),
  });
});

test("causalAttention: grouped-query heads (Hq=4, Hkv=2), and B=2 with a custom scale", () => {
  gradCheck({
    name: "causalAttention GQA",
    inputs: [{ shape: [1, 4, 4, 3] }, { shape: [1, 4, 2, 3] }, { shape: [1, 4, 2, 3] }],
    ours: (q, k, v) => causalAttention(q, k, v),
    reference: (q, k, v) => attention64(q, k, v, 1, 4, 4, 2, 3),
    seed: 2,
  });
  gradCheck({
    name: "causalAttention GQA B=2, Hkv=1, scale 0.7",
    inputs: [{ shape: [2, 5, 3, 2] }, { shape: [2, 5, 1, 2] }, { shape: [2, 5, 1, 2] }],
    ours: (q, k, v) => causalAttention(q, k, v, { scale: 0.7 }),
    reference: (q, k, v) => attention64(q, k, v, 2, 5, 3, 1, 2, 0.7),
    seed: 5,
  });
});

test("causalAttention: T=1 (every query sees only itself)", () => {
  gradCheck({
    name: "causalAttention T=1",
    inputs: [{ shape: [2, 1, 2, 3] }, { shape: [2, 1, 2, 3] }, { shape: [2, 1, 2, 3] }],
    ours: (q, k, v) => causalAttention(q, k, v),
    reference: (q, k, v) => attention64(q, k, v, 2, 1, 2, 2, 3),
  });
});

test("causalAttention: strided q/k/v (slices of a fused qkv projection), and only some inputs requiring grad", () => {
  const [B, T, H, hd] = [1, 3, 2, 2];
  const C = H * hd;
  gradCheck({
    name: "causalAttention on slices of qkv",
    inputs: [{ shape: [B, T, 3 * C] }],
    ours: (qkv) => {
      const q = qkv.slice(2, 0, C).reshape([B, T, H, hd]);
      const k = qkv.slice(2, C, 2 * C).reshape([B, T, H, hd]);
      const v = qkv.slice(2, 2 * C, 3 * C).reshape([B, T, H, hd]);
      return causalAttention(q, k, v);
    },
    reference: (qkv) => {
      const part = (j: number): Float64Array => {
        const a = new Float64Array(B * T * C);
        for (let r = 0; r < B * T; r++) for (let i = 0; i < C; i++) a[r * C + i] = qkv[r * 3 * C + j * C + i];
        return a;
      };
      return attention64(part(0), part(1), part(2), B, T, H, H, hd);
    },
  });
  gradCheck({
    name: "causalAttention with only v requiring grad",
    inputs: [{ shape: [1, 3, 2, 2], grad: false }, { shape: [1, 3, 1, 2], grad: false }, { shape: [1, 3, 1, 2] }],
    ours: (q, k, v) => causalAttention(q, k, v),
    reference: (q, k, v) => attention64(q, k, v, 1, 3, 2, 1, 2),
  });
  gradCheck({
    name: "causalAttention with only q and k requiring grad",
    inputs: [{ shape: [1, 3, 2, 2] }, { shape: [1, 3, 1, 2] }, { shape: [1, 3, 1, 2], grad: false }],
    ours: (q, k, v) => causalAttention(q, k, v),
    reference: (q, k, v) => attention64(q, k, v, 1, 3, 2, 1, 2),
  });
});

test("causalAttention: position 0 attends only to itself (output equals v at t=0 of its kv head)", () => {
  const [B, T, Hq, Hkv, hd] = [2, 5, 4, 2, 3];
  const q = wrap(randomF32(B * T * Hq * hd, 21), { shape: [B, T, Hq, hd], dtype: "f32" });
  const k = wrap(randomF32(B * T * Hkv * hd, 22), { shape: [B, T, Hkv, hd], dtype: "f32" });
  const vd = randomF32(B * T * Hkv * hd, 23);
  const v = wrap(vd, { shape: [B, T, Hkv, hd], dtype: "f32" });
  const y = causalAttention(q, k, v);
  const yd = y.toFloat32Array();
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / (Hq / Hkv));
      const got = [...yd.subarray((b * T * Hq + h) * hd, (b * T * Hq + h + 1) * hd)];
      const want = [...vd.subarray((b * T * Hkv + kh) * hd, (b * T * Hkv + kh + 1) * hd)];
      assert.deepEqual(got, want, `b=${b} h=${h}`);
    }
  }
  // A larger case against the float64 reference (forward only).
  const ref = attention64(Float64Array.from(q.toFloat32Array()), Float64Array.from(k.toFloat32Array()), Float64Array.from(vd), B, T, Hq, Hkv, hd);
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(yd[i] - ref[i]) <= 1e-5, `element ${i}: ${yd[i]} vs ${ref[i]}`);
  for (const t of [q, k, v, y]) t.dispose();
});

test("errors: rope", () => {
  const x = Tensor.empty([1, 2, 1, 4], "f32", true);
  const tables = ropeTables(2, 4);
  assert.throws(() => rope(Tensor.empty([1, 2, 1, 3], "f32", true), ropeTables(2, 4)), (e: Error) => e instanceof RangeError && /^rope: the head size \(last dimension of x\) must be a positive even number, received 3/.test(e.message));
  assert.throws(() => rope(fromArray([1, 2, 3, 4], { shape: [1, 1, 1, 4], dtype: "i32" }) as unknown as Tensor<"f32">, tables), (e: Error) => e instanceof TypeError && /^rope: x must have dtype 'f32', received 'i32'/.test(e.message));
  assert.throws(() => rope(Tensor.empty([2, 4], "f32", true), tables), /^RangeError: rope: x must be 4-d, received shape \[2, 4\]/);
  assert.throws(() => rope(x, ropeTables(1, 4)), (e: Error) => e instanceof RangeError && /^rope: tables must have at least 2 rows \(offset 0 \+ sequence length 2\) of 2 values, received 1 rows/.test(e.message));
  assert.throws(() => rope(x, tables, { offset: 1 }), /rope: tables must have at least 3 rows \(offset 1 \+ sequence length 2\)/);
  assert.throws(() => rope(x, ropeTables(2, 6)), /rope: tables were made for head size 6, x has head size 4 \(shape \[1, 2, 1, 4\]\)/);
  assert.throws(() => rope(x, { headDim: 4, cos: tables.cos.subarray(1), sin: tables.sin.subarray(1) }), /rope: tables must have rows of 2 values \(head size 4 \/ 2\), received length 3, not a multiple of 2/);
  assert.throws(() => rope(x, { headDim: 4, cos: tables.cos, sin: tables.sin.subarray(1) }), /rope: tables.cos and tables.sin must have the same length, received 4 and 3/);
  assert.throws(() => rope(x, { headDim: 4, cos: [1, 0] as unknown as Float32Array, sin: tables.sin }), (e: Error) => e instanceof TypeError && /rope: tables.cos must be a Float32Array, received an array of length 2/.test(e.message));
  assert.throws(() => rope(x, null as unknown as RopeTables), /rope: tables must be \{ cos, sin \} from ropeTables, received null/);
  assert.throws(() => rope(x, tables, { offset: -1 }), /rope: opts.offset must be a non-negative integer, received -1/);
  assert.throws(() => rope(x, tables, { offset: NaN }), /rope: opts.offset must be a non-negative integer, received NaN/);
  assert.throws(() => ropeTables(4, 5), (e: Error) => e instanceof RangeError && /^ropeTables: headDim must be a positive even integer, received 5/.test(e.message));
  assert.throws(() => ropeTables(0, 4), /ropeTables: seqLen must be a positive integer, received 0/);
  assert.throws(() => ropeTables(4, 4, NaN), /ropeTables: theta must be finite, received NaN/);
  assert.throws(() => ropeTables(4, 4, -2), /ropeTables: theta must be positive, received -2/);
  assert.throws(() => ropeTables(4, 4, 10000, 1.5), /ropeTables: offset must be a non-negative integer, received 1.5/);
  assert.throws(() => ropeTables("4" as unknown as number, 4), (e: Error) => e instanceof TypeError && /ropeTables: seqLen must be a positive integer, received '4'/.test(e.message));
  x.dispose();
});

test("errors: causalAttention", () => {
  const t = (shape: number[]): Tensor<"f32"> => Tensor.empty(shape, "f32", true);
  const q = t([1, 4, 4, 3]);
  const kv = t([1, 4, 2, 3]);
  assert.throws(() => causalAttention(q, t([1, 4, 3, 3]), t([1, 4, 3, 3])), (e: Error) => e instanceof RangeError && /^causalAttention: the number of query heads must be a multiple of the number of kv heads, received 4 query heads \(q \[1, 4, 4, 3\]\) and 3 kv heads/.test(e.message));
  assert.throws(() => causalAttention(q, t([1, 3, 2, 3]), kv), /causalAttention: k must have shape \[1, 4, Hkv, 3\] \(batch, length and head size of q, Hkv >= 1\), received \[1, 3, 2, 3\]/);
  assert.throws(() => causalAttention(q, t([2, 4, 2, 3]), kv), /causalAttention: k must have shape \[1, 4, Hkv, 3\].*received \[2, 4, 2, 3\]/);
  assert.throws(() => causalAttention(q, t([1, 4, 2, 2]), kv), /causalAttention: k must have shape \[1, 4, Hkv, 3\].*received \[1, 4, 2, 2\]/);
  assert.throws(() => causalAttention(q, kv, t([1, 4, 1, 3])), /causalAttention: v must have shape \[1, 4, 2, 3\] \(the shape of k\), received \[1, 4, 1, 3\]/);
  assert.throws(() => causalAttention(q, kv, t([1, 4, 2, 3, 1])), /causalAttention: v must be 4-d, received shape \[1, 4, 2, 3, 1\]/);
  assert.throws(() => causalAttention(t([4, 4, 3]), kv, kv), /causalAttention: q must be 4-d/);
  assert.throws(() => causalAttention(q, fromArray([1], { dtype: "i32" }) as unknown as Tensor<"f32">, kv), (e: Error) => e instanceof TypeError && /causalAttention: k must have dtype 'f32', received 'i32'/.test(e.message));
  assert.throws(() => causalAttention(q, kv, kv, { scale: NaN }), (e: Error) => e instanceof RangeError && /^causalAttention: opts.scale must be finite, received NaN/.test(e.message));
  assert.throws(() => causalAttention(q, kv, kv, { scale: Infinity }), /causalAttention: opts.scale must be finite, received Infinity/);
  assert.throws(() => causalAttention(q, kv, kv, { scale: "1" as unknown as number }), (e: Error) => e instanceof TypeError && /causalAttention: opts.scale must be a number, received '1'/.test(e.message));
  assert.throws(() => causalAttention(q, kv, kv, 3 as unknown as { scale: number }), /causalAttention: opts must be an object, received 3/);
  assert.throws(() => causalAttention(t([1, 0, 4, 3]), t([1, 0, 2, 3]), t([1, 0, 2, 3])), /causalAttention: q must have shape \[B, T, Hq, hd\] with every dimension at least 1, received \[1, 0, 4, 3\]/);
  const gone = t([1, 4, 2, 3]);
  gone.dispose();
  assert.throws(() => causalAttention(q, kv, gone), /causalAttention: v was disposed/);
  for (const x of [q, kv]) x.dispose();
});

test("causalAttention: bit-identical at 1 and 2 threads, every ISA variant close to float64", () => {
  const before = getNumThreads();
  const [B, T, Hq, Hkv, hd] = [2, 37, 4, 2, 24];
  const gen = new Generator(11);
  const mk = (shape: number[]): Tensor<"f32"> => {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    gen.normal(a);
    return wrap(a, { shape, dtype: "f32" });
  };
  const q = mk([B, T, Hq, hd]), k = mk([B, T, Hkv, hd]), v = mk([B, T, Hkv, hd]), g = mk([B, T, Hq, hd]);
  const ref = attention64(Float64Array.from(q.toFloat32Array()), Float64Array.from(k.toFloat32Array()), Float64Array.from(v.toFloat32Array()), B, T, Hq, Hkv, hd);
  const run = (): Float32Array[] => {
    for (const t of [q, k, v]) t.requiresGrad_();
    const y = causalAttention(q, k, v);
    y.backward(g);
    const res = [y.toFloat32Array(), q.grad!.toFloat32Array(), k.grad!.toFloat32Array(), v.grad!.toFloat32Array()];
    zeroGrad([q, k, v]);
    y.dispose();
    return res;
  };
  try {
    for (const isa of backendInfo().isa.supported) {
      setIsa(isa as "scalar");
      setNumThreads(1);
      const one = run();
      setNumThreads(2);
      const two = run();
      one.forEach((a, i) => assert.deepEqual(two[i], a, `${isa}: output ${i} differs between 1 and 2 threads`));
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(one[0][i] - ref[i]) <= 1e-5, `${isa}: element ${i}: ${one[0][i]} vs ${ref[i]}`);
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
  for (const t of [q, k, v, g]) t.dispose();
});

test("float64 reference backward (attentionFull64) matches finite differences of attention64", () => {
  const [B, T, Hq, Hkv, hd] = [1, 4, 2, 1, 3];
  const q = Float64Array.from(randomF32(B * T * Hq * hd, 31));
  const k = Float64Array.from(randomF32(B * T * Hkv * hd, 32));
  const v = Float64Array.from(randomF32(B * T * Hkv * hd, 33));
  const g = Float64Array.from(randomF32(B * T * Hq * hd, 34));
  const r = attentionFull64(q, k, v, g, B, T, T, Hq, Hkv, hd, 0.6);
  const loss = (): number => attention64(q, k, v, B, T, Hq, Hkv, hd, 0.6).reduce((acc, y, i) => acc + y * g[i], 0);
  attention64(q, k, v, B, T, Hq, Hkv, hd, 0.6).forEach((y, i) => assert.ok(Math.abs(y - r.out[i]) <= 1e-12, `out ${i}`));
  for (const [x, grad, name] of [[q, r.dq, "dq"], [k, r.dk, "dk"], [v, r.dv, "dv"]] as const) {
    for (let i = 0; i < x.length; i++) {
      const orig = x[i];
      x[i] = orig + 1e-6;
      const up = loss();
      x[i] = orig - 1e-6;
      const down = loss();
      x[i] = orig;
      assert.ok(Math.abs((up - down) / 2e-6 - grad[i]) <= 1e-7, `${name}[${i}]: ${grad[i]} vs ${(up - down) / 2e-6}`);
    }
  }
});

test("causalAttention: forward and all three gradients close to float64 on every ISA, training shape and grouped heads with hd=24", () => {
  const before = getNumThreads();
  try {
    for (const [B, T, Hq, Hkv, hd] of [[2, 128, 4, 4, 64], [2, 37, 4, 2, 24]]) {
      const qd = randomF32(B * T * Hq * hd, 41), kd = randomF32(B * T * Hkv * hd, 42), vd = randomF32(B * T * Hkv * hd, 43), gd = randomF32(B * T * Hq * hd, 44);
      const ref = attentionFull64(qd, kd, vd, gd, B, T, T, Hq, Hkv, hd, 1 / Math.sqrt(hd));
      const q = wrap(qd, { shape: [B, T, Hq, hd], dtype: "f32" }).requiresGrad_();
      const k = wrap(kd, { shape: [B, T, Hkv, hd], dtype: "f32" }).requiresGrad_();
      const v = wrap(vd, { shape: [B, T, Hkv, hd], dtype: "f32" }).requiresGrad_();
      const g = wrap(gd, { shape: [B, T, Hq, hd], dtype: "f32" });
      for (const isa of backendInfo().isa.supported) {
        setIsa(isa as "scalar");
        const results: Float32Array[][] = [];
        for (const threads of [1, 2]) {
          setNumThreads(threads);
          const y = causalAttention(q, k, v);
          y.backward(g);
          results.push([y.toFloat32Array(), q.grad!.toFloat32Array(), k.grad!.toFloat32Array(), v.grad!.toFloat32Array()]);
          zeroGrad([q, k, v]);
          y.dispose();
        }
        const [one, two] = results;
        one.forEach((a, i) => assert.deepEqual(two[i], a, `${isa} [${B}, ${T}, ${Hq}/${Hkv}, ${hd}]: result ${i} differs between 1 and 2 threads`));
        const what = `${isa} [${B}, ${T}, ${Hq}/${Hkv}, ${hd}]`;
        checkClose(`${what} out`, one[0], ref.out);
        checkClose(`${what} dq`, one[1], ref.dq);
        checkClose(`${what} dk`, one[2], ref.dk);
        checkClose(`${what} dv`, one[3], ref.dv);
      }
      for (const t of [q, k, v, g]) t.dispose();
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
});

test("attention kernels with a KV cache (kvLen > qLen, down to qLen = 1), over several query panels, and with peaked softmax", () => {
  // qLen = 150 crosses the backward's 128-row panels. Scale 40 makes logits of order 500, so
  // most probabilities underflow to exact zeros (exp of very negative scores). A float32 logit
  // that large is only known to a few ulp(500) = 3e-5, which moves each probability by as much
  // relative, and dq, dk by scale times that: observed 1.4e-4 on dk (the plain-loop kernels,
  // whose dots use eight partial sums where the tiles sum head_dim in order: 4e-5), so that case
  // is held to 5e-4.
  const cases: [number, number, number, number, number, number, number, number][] = [
    [2, 1, 9, 2, 1, 5, 0.4, kTolerance],
    [2, 1, 33, 4, 4, 64, 0.125, kTolerance],
    [1, 5, 12, 4, 2, 3, 0.6, kTolerance],
    [2, 7, 7, 3, 1, 17, 40, 5e-4],
    [1, 150, 161, 2, 1, 5, 0.45, kTolerance],
  ];
  const before = getNumThreads();
  try {
    for (const [B, Tq, Tk, Hq, Hkv, hd, scale, tolerance] of cases) {
      const q = randomF32(B * Tq * Hq * hd, 51), k = randomF32(B * Tk * Hkv * hd, 52), v = randomF32(B * Tk * Hkv * hd, 53), g = randomF32(B * Tq * Hq * hd, 54);
      const ref = attentionFull64(q, k, v, g, B, Tq, Tk, Hq, Hkv, hd, scale);
      for (const isa of backendInfo().isa.supported) {
        setIsa(isa as "scalar");
        const results: Float32Array[][] = [];
        for (const threads of [1, 2]) {
          setNumThreads(threads);
          const out = new Float32Array(q.length), lse = new Float32Array(B * Hq * Tq);
          const dq = new Float32Array(q.length), dk = new Float32Array(k.length).fill(NaN), dv = new Float32Array(v.length).fill(NaN);
          addon().attentionForward(q, k, v, B, Tq, Tk, Hq, Hkv, hd, scale, out, lse);
          addon().attentionBackward(q, k, v, out, lse, g, B, Tq, Tk, Hq, Hkv, hd, scale, dq, dk, dv);
          results.push([out, lse, dq, dk, dv]);
        }
        const what = `${isa} B=${B} Tq=${Tq} Tk=${Tk} Hq=${Hq} Hkv=${Hkv} hd=${hd} scale=${scale}`;
        results[0].forEach((a, i) => assert.deepEqual(results[1][i], a, `${what}: result ${i} differs between 1 and 2 threads`));
        const [out, lse, dq, dk, dv] = results[0];
        checkClose(`${what} out`, out, ref.out, tolerance);
        checkClose(`${what} lse`, lse, ref.lse, tolerance);
        checkClose(`${what} dq`, dq, ref.dq, tolerance);
        checkClose(`${what} dk`, dk, ref.dk, tolerance);
        checkClose(`${what} dv`, dv, ref.dv, tolerance);
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
});
