// BitLinear: forward bit-exact with a float64 reference of the recipe's formulas on every ISA
// variant and thread count, straight-through gradients against float64, the warm-up blend, and
// bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, backendInfo, fromArray, getIsa, getNumThreads, noGrad, randn, setIsa, setNumThreads, tidy, memoryStats } from "../../src";
import { absSum64 } from "../quant/absmean";
import { bitLinear } from "../../src/ops/bitlinear";

const f32 = Math.fround;
const EPS = f32(1e-5);

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Reference {
  y: Float32Array;
  xq: Int8Array;
  sx: Float32Array;
  wq: Int8Array;
  sw: number;
}

/** The recipe in float64: absmean ternary W (per tensor), absmax int8 x per row, y = (xq . wq) * sw / sx. */
function reference(x: Float32Array, w: Float32Array, m: number, k: number, n: number): Reference {
  const sw = Math.max(f32(absSum64(w, 0, n * k) / (n * k)), EPS);
  const wq = new Int8Array(n * k);
  for (let i = 0; i < n * k; i++) wq[i] = Math.min(1, Math.max(-1, roundHalfEven(f32(w[i] / sw))));
  const xq = new Int8Array(m * k);
  const sx = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let amax = 0;
    for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(x[i * k + j]));
    sx[i] = f32(127 / Math.max(amax, EPS));
    for (let j = 0; j < k; j++) xq[i * k + j] = Math.min(127, Math.max(-128, roundHalfEven(f32(x[i * k + j] * sx[i]))));
  }
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let t = 0; t < k; t++) dot += xq[i * k + t] * wq[j * k + t];
      y[i * n + j] = f32((dot * sw) / sx[i]);
    }
  return { y, xq, sx, wq, sw };
}

test("bitLinear forward is bit-exact with the float64 reference on every ISA variant and thread count", () => {
  const before = getNumThreads();
  try {
    for (const [b, t, k, n] of [[1, 1, 1, 1], [2, 3, 7, 5], [1, 17, 130, 33], [3, 40, 300, 70]]) {
      const x = randn([b, t, k], { seed: k });
      const w = randn([n, k], { seed: n, std: 0.02 });
      const ref = reference(x.toFloat32Array(), w.toFloat32Array(), b * t, k, n);
      for (const isa of backendInfo().isa.supported) {
        for (const threads of [1, 2]) {
          setIsa(isa as "scalar");
          setNumThreads(threads);
          const y = noGrad(() => bitLinear(x, w));
          assert.deepEqual([...y.shape], [b, t, n]);
          assert.deepEqual(y.toFloat32Array(), ref.y, `${b}x${t}x${k} -> ${n} on ${isa}/${threads}t`);
          y.dispose();
        }
      }
      x.dispose();
      w.dispose();
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
});

test("bitLinear backward is the straight-through estimator: dX = g (Wq sw), dW = g^T (Xq / sx)", () => {
  const [m, k, n] = [6, 40, 9];
  const x = randn([2, 3, k], { seed: 1 }).requiresGrad_();
  const w = randn([n, k], { seed: 2, std: 0.05 }).requiresGrad_();
  const g = randn([2, 3, n], { seed: 3 });
  const y = bitLinear(x, w);
  y.backward(g);
  const ref = reference(x.toFloat32Array(), w.toFloat32Array(), m, k, n);
  const gd = g.toFloat32Array();
  const gx = x.grad!.toFloat32Array();
  const gw = w.grad!.toFloat32Array();
  for (let i = 0; i < m; i++)
    for (let t = 0; t < k; t++) {
      let s = 0, mag = 0;
      for (let j = 0; j < n; j++) {
        s += gd[i * n + j] * ref.wq[j * k + t] * ref.sw;
        mag += Math.abs(gd[i * n + j] * ref.sw);
      }
      assert.ok(Math.abs(gx[i * k + t] - s) <= 1e-6 * mag + 1e-12, `dX[${i},${t}] ${gx[i * k + t]} vs ${s}`);
    }
  for (let j = 0; j < n; j++)
    for (let t = 0; t < k; t++) {
      let s = 0, mag = 0;
      for (let i = 0; i < m; i++) {
        const xt = f32(ref.xq[i * k + t] / ref.sx[i]);
        s += gd[i * n + j] * xt;
        mag += Math.abs(gd[i * n + j] * xt);
      }
      assert.ok(Math.abs(gw[j * k + t] - s) <= 1e-6 * mag + 1e-12, `dW[${j},${t}] ${gw[j * k + t]} vs ${s}`);
    }
  for (const t of [x.grad!, w.grad!, x, w, g, y]) t.dispose();
});

test("bitLinear with lambda < 1 blends quantized and float operands in forward and backward", () => {
  const [m, k, n] = [4, 24, 5];
  const lambda = 0.25;
  const x = randn([m, k], { seed: 4 }).requiresGrad_();
  const w = randn([n, k], { seed: 5, std: 0.05 }).requiresGrad_();
  const y = bitLinear(x, w, { lambda });
  const ones = Tensor.empty([m, n], "f32");
  ones.data().fill(1);
  y.backward(ones);
  const xd = x.toFloat32Array(), wd = w.toFloat32Array();
  const ref = reference(xd, wd, m, k, n);
  const xt = xd.map((v, i) => f32(v + lambda * (f32(ref.xq[i] / ref.sx[Math.floor(i / k)]) - v)));
  const wt = wd.map((v, i) => f32(v + lambda * (f32(ref.wq[i] * ref.sw) - v)));
  const yd = y.toFloat32Array();
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0, mag = 0;
      for (let t = 0; t < k; t++) {
        s += xt[i * k + t] * wt[j * k + t];
        mag += Math.abs(xt[i * k + t] * wt[j * k + t]);
      }
      assert.ok(Math.abs(yd[i * n + j] - s) <= 1e-6 * mag, `y[${i},${j}]`);
    }
  // d(sum y)/dx[i,t] = sum_j wt[j,t]; d(sum y)/dw[j,t] = sum_i xt[i,t]
  const gx = x.grad!.toFloat32Array(), gw = w.grad!.toFloat32Array();
  for (let t = 0; t < k; t++) {
    let sw = 0;
    for (let j = 0; j < n; j++) sw += wt[j * k + t];
    for (let i = 0; i < m; i++) assert.ok(Math.abs(gx[i * k + t] - sw) <= 1e-5, `dX[${i},${t}]`);
    let sx = 0;
    for (let i = 0; i < m; i++) sx += xt[i * k + t];
    for (let j = 0; j < n; j++) assert.ok(Math.abs(gw[j * k + t] - sx) <= 1e-5, `dW[${j},${t}]`);
  }
  // lambda = 0 is a plain float linear layer.
  const y0 = noGrad(() => bitLinear(x, w, { lambda: 0 }));
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += xd[i * k + t] * wd[j * k + t];
      assert.ok(Math.abs(y0.toFloat32Array()[i * n + j] - s) <= 1e-5);
    }
  for (const t of [x.grad!, w.grad!, x, w, y, y0, ones]) t.dispose();
});

test("bitLinear frees its saved operands after backward, refuses a second backward, and leaks nothing under noGrad", () => {
  const w = randn([8, 16], { seed: 6 }).requiresGrad_();
  const x = randn([3, 16], { seed: 7 });
  const live = memoryStats().liveTensors;
  noGrad(() => bitLinear(x, w)).dispose();
  assert.equal(memoryStats().liveTensors, live);
  const y = bitLinear(x, w);
  const g = randn([3, 8], { seed: 8 });
  y.backward(g, { retainGraph: true });
  assert.throws(() => y.backward(g), /bitLinear: a second backward through the same call is not supported/);
  for (const t of [w.grad!, w, x, y, g]) t.dispose();
});

test("bitLinear rejects bad input with named errors", () => {
  const x = randn([2, 4]);
  const w = randn([3, 4]);
  assert.throws(() => bitLinear(x, randn([3, 5])), /^RangeError: bitLinear: x's last dimension must be 5 \(weight is \[3, 5\]\), received \[2, 4\]$/);
  assert.throws(() => bitLinear(x, randn([12])), /bitLinear: weight must be 2-d, received shape \[12\]/);
  assert.throws(() => bitLinear(fromArray([1, 2], { dtype: "i32" }) as unknown as Tensor<"f32">, w), /bitLinear: x must have dtype 'f32', received 'i32'/);
  assert.throws(() => bitLinear(x, w, { lambda: 1.5 }), /^RangeError: bitLinear: lambda must be a number in \[0, 1\], received 1.5$/);
  assert.throws(() => bitLinear(x, w, { lambda: NaN }), /bitLinear: lambda must be a number in \[0, 1\], received NaN/);
  assert.throws(() => bitLinear(x, w, { lambda: "1" as unknown as number }), /^TypeError: bitLinear: lambda must be a number/);
  const bad = x.clone();
  bad.data()[3] = NaN;
  assert.throws(() => bitLinear(bad, w), /quantizeActivationsInt8: .*NaN|non-finite|finite/);
  for (const t of [x, w, bad]) t.dispose();
});

test("bitLinear with bf16 backward GEMMs stays within the documented error of the fp32 backward (equals it without bf16 instructions)", () => {
  const grads = (precision: "fp32" | "bf16"): Float32Array[] => {
    const x = randn([4, 64, 96], { seed: 21 }).requiresGrad_();
    const w = randn([80, 96], { seed: 22, std: 0.05 }).requiresGrad_();
    const g = randn([4, 64, 80], { seed: 23 });
    const y = bitLinear(x, w, { backwardPrecision: precision });
    y.backward(g);
    const out = [x.grad!.toFloat32Array(), w.grad!.toFloat32Array()];
    for (const t of [x.grad!, w.grad!, x, w, g, y]) t.dispose();
    return out;
  };
  const before = getIsa();
  try {
    for (const isa of backendInfo().isa.supported) {
      setIsa(isa as "scalar");
      const native = backendInfo().bf16Gemm === "native";
      const f32 = grads("fp32");
      const bf = grads("bf16");
      f32.forEach((a, i) => {
        const name = `${isa} ${i === 0 ? "dX" : "dW"}`;
        if (!native) return assert.deepEqual(bf[i], a, `${name}: without bf16 instructions "bf16" runs the fp32 products`);
        let num = 0, den = 0;
        for (let j = 0; j < a.length; j++) {
          num += (bf[i][j] - a[j]) ** 2;
          den += a[j] ** 2;
        }
        const rel = Math.sqrt(num / den);
        assert.ok(rel < 5e-3 && rel > 0, `${name}: relative RMS difference ${rel}`);
      });
    }
  } finally {
    setIsa(before as "scalar");
  }
  assert.throws(() => bitLinear(randn([2, 4]), randn([3, 4]), { backwardPrecision: "f16" as "bf16" }), /bitLinear: backwardPrecision must be 'fp32' or 'bf16', received 'f16'/);
});
