// RoPE and causal attention against float64 references written from the PyTorch formulas
// (rope_tables / apply_rope / masked softmax attention), on the [B, T, H, hd] layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, fromArray, wrap, Generator, backendInfo, getNumThreads, setIsa, setNumThreads, zeroGrad } from "../../src";
import { ropeTables, rope, causalAttention, RopeTables } from "../../src/ops/attention";
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
