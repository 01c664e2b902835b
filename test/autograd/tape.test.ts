// The tape itself: views on the tape, accumulation, fan-out, retainGraph, noGrad, detach, and
// the errors a user meets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, fromArray, noGrad, record, setGradEnabled, isGradEnabled, zeroGrad, tidy, memoryStats } from "../../src";
import { gradCheck } from "../ops/gradcheck";

/** y = a * b elementwise (same shapes), as a user-defined op through record(). */
function mul(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  const out = Tensor.empty(a.shape, "f32");
  const o = out.data(), x = a.data(), y = b.data();
  for (let i = 0; i < o.length; i++) o[i] = x[i] * y[i];
  return record("mul", out, [a, b], (g) => {
    const ga = Tensor.empty(a.shape, "f32"), gb = Tensor.empty(b.shape, "f32");
    const gd = g.data(), da = ga.data(), db = gb.data();
    for (let i = 0; i < gd.length; i++) {
      da[i] = gd[i] * y[i];
      db[i] = gd[i] * x[i];
    }
    return [ga, gb];
  });
}

test("view ops (reshape, permute, transpose, slice with step, contiguous, clone) carry gradients", () => {
  gradCheck({
    name: "views",
    inputs: [{ shape: [3, 4, 5] }],
    ours: (x) => x.permute([2, 0, 1]).slice(0, 1, 5, 2).transpose(1, 2).contiguous().reshape([-1]).clone().slice(0, 3),
    reference: (x) => {
      const out: number[] = [];
      // permute -> [5,3,4]; slice dim0 1,3 -> [2,3,4]; transpose(1,2) -> [2,4,3]; flatten; drop 3
      for (const c of [1, 3]) for (let k = 0; k < 4; k++) for (let i = 0; i < 3; i++) out.push(x[i * 20 + k * 5 + c]);
      return Float64Array.from(out.slice(3));
    },
  });
});

test("fan-out accumulates, a leaf used twice sums both paths, and grads accumulate across backward calls", () => {
  const x = fromArray([1, 2, 3]).requiresGrad_();
  const y = mul(x, x); // dy/dx = 2x
  const z = mul(y, x); // x^3: dz/dx = 3x^2
  z.backward(fromArray([1, 1, 1]));
  assert.deepEqual(x.grad!.values(), [3, 12, 27]);
  const again = mul(x, fromArray([10, 10, 10]));
  again.backward(fromArray([1, 1, 1]));
  assert.deepEqual(x.grad!.values(), [13, 22, 37], "gradients accumulate until zeroGrad");
  zeroGrad([x]);
  assert.equal(x.grad, null);
});

test("a second backward through a released graph is an error; retainGraph allows it", () => {
  const x = fromArray([2]).requiresGrad_();
  const y = mul(x, x);
  const z = mul(y, fromArray([1]));
  z.backward(undefined, { retainGraph: true });
  z.backward();
  assert.deepEqual(x.grad!.values(), [8]);
  const w = mul(y, fromArray([1]));
  assert.throws(() => w.backward(), /already used by a backward pass.*retainGraph/);
});

test("noGrad, setGradEnabled and detach cut the tape", () => {
  const x = fromArray([1, 2]).requiresGrad_();
  const y = noGrad(() => mul(x, x));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradNode, null);
  const before = setGradEnabled(false);
  assert.equal(isGradEnabled(), false);
  assert.equal(mul(x, x).requiresGrad, false);
  setGradEnabled(before);
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(mul(d, d).requiresGrad, false);
  assert.throws(() => noGrad(async () => 1), /synchronous/);
});

test("errors: non-scalar without gradient, wrong gradient shape, no grad required, marking a non-leaf or an integer tensor", () => {
  const x = fromArray([1, 2]).requiresGrad_();
  const y = mul(x, x);
  assert.throws(() => y.backward(), /gradient must be given for a non-scalar tensor \(shape \[2\]\)/);
  assert.throws(() => y.backward(fromArray([1, 2, 3])), /gradient must have the tensor's shape \[2\], received \[3\]/);
  assert.throws(() => fromArray([1]).backward(), /does not require grad/);
  assert.throws(() => y.requiresGrad_(), /only leaf tensors.*'mul'/);
  assert.throws(() => fromArray([1], { dtype: "i32" }).requiresGrad_(), /only f32 tensors can require grad, this one is i32/);
  const bad = record("bad", Tensor.empty([2], "f32"), [x], () => [fromArray([1, 2, 3])]);
  assert.throws(() => bad.backward(fromArray([1, 1])), /op 'bad' produced a gradient of shape \[3\] for input 0 of shape \[2\]/);
});

test("fan-out into a non-leaf sums every path (in place, on the native kernel when large) and frees what it used", () => {
  for (const n of [5, 40_000]) {
    const x = Tensor.empty([n], "f32").requiresGrad_();
    const xd = x.data();
    for (let i = 0; i < n; i++) xd[i] = ((i % 7) - 3) / 4;
    const ones = Tensor.empty([n], "f32");
    ones.data().fill(1);
    const live = memoryStats().liveTensors;
    tidy(() => {
      const h = mul(x, ones); // a non-leaf used by four ops: three gradients accumulate into it
      const y = mul(mul(h, h), h.reshape([n]));
      const z = mul(y, ones);
      const w = mul(z, h); // h^4 overall: dw/dx = 4 x^3
      w.backward(ones);
    });
    const g = x.grad!.data();
    for (let i = 0; i < n; i++) assert.equal(g[i], Math.fround(4 * xd[i] ** 3), `n=${n}, element ${i}`);
    assert.equal(memoryStats().liveTensors, live + 1, "only x.grad survives");
    zeroGrad([x]);
    x.dispose();
    ones.dispose();
  }
});

test("backward inside tidy keeps the leaf gradients and frees everything else", () => {
  const x = fromArray([1, 2, 3]).requiresGrad_();
  const live = memoryStats().liveTensors;
  tidy(() => {
    const y = mul(mul(x, x), x.reshape([3]));
    y.backward(fromArray([1, 1, 1]));
  });
  assert.deepEqual(x.grad!.values(), [3, 12, 27]);
  assert.equal(memoryStats().liveTensors, live + 1, "only x.grad survives the scope");
  zeroGrad([x]);
});
