// AdamW and SGD against float64 references of PyTorch's update rules, the default weight-decay
// groups, gradient-norm clipping against a hand computation, bit-identical resumption from a
// state dict, accumulated gradients from real backward passes, and one test per bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, Tensor, fromArray, getNumThreads, memoryStats, mul, randn, setNumThreads, sum, zeros } from "../../src";
import { AdamW, AdamWStateDict, SGD, SGDStateDict, clipGradNorm } from "../../src/train/optim";

const SHAPES = [[4, 6], [6], [3, 5, 2]];

/** Parameters with random values (seeded), marked as requiring grad. */
function makeParams(seed: number, shapes: number[][] = SHAPES): Tensor<"f32">[] {
  return shapes.map((s, i) => randn(s, { seed: seed * 31 + i }).requiresGrad_());
}

/** A deterministic stream of gradients: gradients[step][param] (null: no gradient that step). */
function makeGradients(seed: number, steps: number, shapes: number[][], missing: [number, number][] = []): (Float32Array | null)[][] {
  const g = new Generator(seed);
  const out: (Float32Array | null)[][] = [];
  for (let s = 0; s < steps; s++) {
    out.push(
      shapes.map((shape, i) => {
        const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
        g.normal(a, 0, 0.5);
        return missing.some(([ms, mi]) => ms === s && mi === i) ? null : a;
      }),
    );
  }
  return out;
}

function setGradients(params: Tensor<"f32">[], grads: (Float32Array | null)[]): void {
  params.forEach((p, i) => {
    if (p.grad !== null) p.grad.dispose();
    const g = grads[i];
    p.grad = g === null ? null : fromArray(g.slice(), { shape: p.shape.slice() });
  });
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = 2e-6, abs = 1e-7): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= rel * Math.abs(expected[i]) + abs, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (diff ${d})`);
  }
}

function disposeAll(params: Tensor[]): void {
  for (const p of params) {
    if (p.grad !== null) p.grad.dispose();
    p.grad = null;
    p.dispose();
  }
}

// ------------------------------------------------------------------------- references

interface RefGroup {
  indices: number[];
  lr: number;
  weightDecay: number;
}

function adamwRef(
  params: Float64Array[],
  groups: RefGroup[],
  grads: (Float32Array | null)[][],
  beta1: number,
  beta2: number,
  eps: number,
): Float64Array[] {
  const p = params.map((a) => Float64Array.from(a));
  const m = p.map((a) => new Float64Array(a.length));
  const v = p.map((a) => new Float64Array(a.length));
  const t = p.map(() => 0);
  for (const stepGrads of grads) {
    for (const group of groups) {
      for (const i of group.indices) {
        const g = stepGrads[i];
        if (g === null) continue;
        t[i]++;
        for (let k = 0; k < g.length; k++) {
          p[i][k] -= group.lr * group.weightDecay * p[i][k];
          m[i][k] = beta1 * m[i][k] + (1 - beta1) * g[k];
          v[i][k] = beta2 * v[i][k] + (1 - beta2) * g[k] * g[k];
          const mhat = m[i][k] / (1 - beta1 ** t[i]);
          const vhat = v[i][k] / (1 - beta2 ** t[i]);
          p[i][k] -= (group.lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      }
    }
  }
  return p;
}

function sgdRef(params: Float64Array[], groups: RefGroup[], grads: (Float32Array | null)[][], momentum: number, nesterov: boolean): Float64Array[] {
  const p = params.map((a) => Float64Array.from(a));
  const buf: (Float64Array | null)[] = p.map(() => null);
  for (const stepGrads of grads) {
    for (const group of groups) {
      for (const i of group.indices) {
        const g = stepGrads[i];
        if (g === null) continue;
        const d = Float64Array.from(g, (x, k) => x + group.weightDecay * p[i][k]);
        if (momentum !== 0) {
          const b = buf[i];
          if (b === null) buf[i] = Float64Array.from(d);
          else for (let k = 0; k < d.length; k++) b[k] = momentum * b[k] + d[k];
          const bb = buf[i] as Float64Array;
          for (let k = 0; k < d.length; k++) d[k] = nesterov ? d[k] + momentum * bb[k] : bb[k];
        }
        for (let k = 0; k < d.length; k++) p[i][k] -= group.lr * d[k];
      }
    }
  }
  return p;
}

const values64 = (params: Tensor<"f32">[]): Float64Array[] => params.map((p) => Float64Array.from(p.data()));

// ------------------------------------------------------------------------------ AdamW

test("AdamW matches a float64 reference of PyTorch's AdamW over 5 steps, with groups and skipped gradients", () => {
  const before = memoryStats().liveTensors;
  const params = makeParams(1);
  const initial = values64(params);
  // Parameter 2 has no gradient at steps 0 and 3: its step count must lag, as in PyTorch.
  const grads = makeGradients(2, 5, SHAPES, [[0, 2], [3, 2]]);
  const opt = new AdamW(
    [
      { params: [params[0], params[2]], weightDecay: 0.1 },
      { params: [params[1]], lr: 3e-2, weightDecay: 0 },
    ],
    { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8 },
  );
  for (const g of grads) {
    setGradients(params, g);
    opt.step();
  }
  const expected = adamwRef(
    initial,
    [
      { indices: [0, 2], lr: 1e-2, weightDecay: 0.1 },
      { indices: [1], lr: 3e-2, weightDecay: 0 },
    ],
    grads,
    0.9,
    0.95,
    1e-8,
  );
  params.forEach((p, i) => assertClose(p.data(), expected[i], `param ${i}`));
  const state = opt.stateDict();
  assert.deepEqual(
    state.state.map((s) => s?.step),
    [5, 3, 5],
    "step counts per parameter index (numbered across groups: [0, 2] then [1])",
  );
  assert.ok(params.some((p, i) => Math.abs(p.data()[0] - initial[i][0]) > 1e-3), "the parameters moved");
  disposeAll(params);
  assert.equal(memoryStats().liveTensors, before, "no tensors leaked");
});

test("AdamW uses lr and weight decay changed between steps (the two-stage schedule turns decay off mid-run)", () => {
  const params = makeParams(3);
  const initial = values64(params);
  const grads = makeGradients(4, 4, SHAPES);
  const opt = new AdamW(params, { lr: 5e-3, weightDecay: 0.2 });
  const lrs = [5e-3, 4e-3, 2e-3, 1e-3];
  const wds = [0.2, 0.2, 0, 0];
  let expected = initial;
  grads.forEach((g, s) => {
    opt.setLr(lrs[s]);
    opt.setWeightDecay(wds[s], 0);
    setGradients(params, g);
    opt.step();
    assert.equal(opt.paramGroups[0].lr, lrs[s]);
    assert.equal(opt.paramGroups[0].weightDecay, wds[s]);
  });
  // The reference restarts from step 0 each time, so run it once over all steps with a
  // per-step group table instead.
  const p = initial.map((a) => Float64Array.from(a));
  const m = p.map((a) => new Float64Array(a.length));
  const v = p.map((a) => new Float64Array(a.length));
  grads.forEach((g, s) => {
    const t = s + 1;
    p.forEach((pi, i) => {
      const gi = g[i] as Float32Array;
      for (let k = 0; k < pi.length; k++) {
        pi[k] -= lrs[s] * wds[s] * pi[k];
        m[i][k] = 0.9 * m[i][k] + 0.1 * gi[k];
        v[i][k] = 0.999 * v[i][k] + 0.001 * gi[k] * gi[k];
        pi[k] -= (lrs[s] * (m[i][k] / (1 - 0.9 ** t))) / (Math.sqrt(v[i][k] / (1 - 0.999 ** t)) + 1e-8);
      }
    });
  });
  expected = p;
  params.forEach((x, i) => assertClose(x.data(), expected[i], `param ${i}`));
  disposeAll(params);
});

test("AdamW works on gradients accumulated over several backward calls", () => {
  const w = randn([3, 4], { seed: 11 }).requiresGrad_();
  const x1 = randn([3, 4], { seed: 12 });
  const x2 = randn([3, 4], { seed: 13 });
  const initial = Float64Array.from(w.data());
  // d/dw sum(w * x) = x; two backward passes accumulate x1 + x2.
  for (const x of [x1, x2]) {
    const prod = mul(w, x);
    const loss = sum(prod);
    loss.backward();
    prod.dispose();
    loss.dispose();
  }
  const g = new Float32Array(12);
  for (let k = 0; k < 12; k++) g[k] = x1.data()[k] + x2.data()[k];
  assertClose((w.grad as Tensor<"f32">).data(), g, "accumulated gradient", 0, 1e-6);
  const opt = new AdamW([w], { lr: 1e-2, weightDecay: 0.05 });
  opt.step();
  const expected = adamwRef([initial], [{ indices: [0], lr: 1e-2, weightDecay: 0.05 }], [[(w.grad as Tensor<"f32">).data()]], 0.9, 0.999, 1e-8);
  assertClose(w.data(), expected[0], "w");
  opt.zeroGrad();
  assert.equal(w.grad, null, "zeroGrad sets grads to null");
  disposeAll([w, x1, x2]);
});

test("AdamW.defaultGroups decays only 2-D weights whose names contain neither 'emb' nor 'norm'", () => {
  const embedding = randn([10, 4], { seed: 21 }).requiresGrad_();
  const wq = randn([4, 4], { seed: 22 }).requiresGrad_();
  const ffn = randn([8, 4], { seed: 23 }).requiresGrad_();
  const normGain = randn([4], { seed: 24 }).requiresGrad_();
  const bias = randn([8], { seed: 25 }).requiresGrad_();
  const normMatrix = randn([4, 4], { seed: 26 }).requiresGrad_();
  const conv = randn([2, 2, 2], { seed: 27 }).requiresGrad_();
  const named: [string, Tensor][] = [
    ["tokEmbedding.weight", embedding],
    ["layers.0.attn.wq", wq],
    ["layers.0.ffn.up", ffn],
    ["layers.0.attnNorm.weight", normGain],
    ["layers.0.ffn.bias", bias],
    ["layers.0.subNorm.matrix", normMatrix],
    ["layers.0.conv", conv],
    // A head tied to the embedding is the same tensor under a second name: listed once, undecayed.
    ["head.weight", embedding],
  ];
  const [decay, noDecay] = AdamW.defaultGroups(named, 0.1);
  assert.deepEqual(decay.params, [wq, ffn]);
  assert.deepEqual(noDecay.params, [embedding, normGain, bias, normMatrix, conv]);
  assert.equal(decay.weightDecay, 0.1);
  assert.equal(noDecay.weightDecay, 0);
  // A Map works as well as an array.
  const fromMap = AdamW.defaultGroups(new Map(named.slice(0, 3)), 0.1);
  assert.deepEqual(fromMap[0].params, [wq, ffn]);

  // With zero gradients Adam's step is 0 / (0 + eps) = 0, so only the decay moves a parameter.
  const all = [embedding, wq, ffn, normGain, bias, normMatrix, conv];
  const initial = all.map((p) => Float32Array.from(p.data()));
  const opt = new AdamW([decay, noDecay], { lr: 0.5 });
  for (const p of all) p.grad = zeros(p.shape.slice());
  opt.step();
  all.forEach((p, i) => {
    const factor = p === wq || p === ffn ? 1 - 0.5 * 0.1 : 1;
    assertClose(p.data(), Float64Array.from(initial[i], (x) => Math.fround(x * factor)), `param ${i}`, 0, 0);
  });
  disposeAll(all);
});

test("AdamW.stateDict round trip gives bit-identical continued updates", () => {
  const grads = makeGradients(31, 6, SHAPES, [[1, 1]]);
  const a = makeParams(30);
  const optA = new AdamW([{ params: [a[0]] }, { params: [a[1], a[2]], weightDecay: 0 }], { lr: 3e-3, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 });
  for (let s = 0; s < 3; s++) {
    setGradients(a, grads[s]);
    optA.step();
  }
  optA.setLr(1e-3, 1);
  const snapshot = optA.stateDict();
  const copy = structuredClone(snapshot);
  const b = a.map((p) => fromArray(p.data().slice(), { shape: p.shape.slice() }).requiresGrad_());
  for (let s = 3; s < 6; s++) {
    setGradients(a, grads[s]);
    optA.step();
  }
  assert.deepEqual(snapshot, copy, "the state dict is a copy: later steps do not change it");

  // A fresh optimizer with other hyperparameters takes them all from the state.
  const optB = new AdamW([{ params: [b[0]] }, { params: [b[1], b[2]] }], { lr: 1, betas: [0.5, 0.5], eps: 1, weightDecay: 0 });
  optB.loadStateDict(snapshot);
  assert.deepEqual(optB.stateDict(), copy);
  snapshot.state[0]?.expAvg.fill(123); // loading copied the arrays
  for (let s = 3; s < 6; s++) {
    setGradients(b, grads[s]);
    optB.step();
  }
  // deepEqual compares numbers with Object.is: equal floats here are equal bits.
  a.forEach((p, i) => assert.deepEqual(Array.from(b[i].data()), Array.from(p.data()), `param ${i}`));
  const sa = optA.stateDict();
  const sb = optB.stateDict();
  assert.deepEqual(sb, sa, "moments and step counts identical");
  disposeAll([...a, ...b]);
});

// -------------------------------------------------------------------------------- SGD

for (const [momentum, nesterov, weightDecay] of [
  [0, false, 0],
  [0.9, false, 0.01],
  [0.9, true, 0.05],
] as [number, boolean, number][]) {
  test(`SGD (momentum ${momentum}, nesterov ${nesterov}, weightDecay ${weightDecay}) matches a float64 reference over 5 steps`, () => {
    const params = makeParams(41);
    const initial = values64(params);
    const grads = makeGradients(42, 5, SHAPES, [[2, 0]]);
    const opt = new SGD([{ params: [params[0], params[1]] }, { params: [params[2]], lr: 0.02 }], { lr: 0.1, momentum, nesterov, weightDecay });
    for (const g of grads) {
      setGradients(params, g);
      opt.step();
    }
    const expected = sgdRef(
      initial,
      [
        { indices: [0, 1], lr: 0.1, weightDecay },
        { indices: [2], lr: 0.02, weightDecay },
      ],
      grads,
      momentum,
      nesterov,
    );
    params.forEach((p, i) => assertClose(p.data(), expected[i], `param ${i}`));
    const state = opt.stateDict();
    assert.deepEqual(state.state.map((s) => s?.step), [4, 5, 5]);
    assert.equal(state.state[0]?.momentumBuffer === null, momentum === 0, "a momentum buffer exactly when momentum > 0");
    disposeAll(params);
  });
}

test("SGD.stateDict round trip gives bit-identical continued updates", () => {
  const grads = makeGradients(51, 5, SHAPES);
  const a = makeParams(50);
  const optA = new SGD(a, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 });
  for (let s = 0; s < 2; s++) {
    setGradients(a, grads[s]);
    optA.step();
  }
  const snapshot = optA.stateDict();
  const copy = structuredClone(snapshot);
  const b = a.map((p) => fromArray(p.data().slice(), { shape: p.shape.slice() }).requiresGrad_());
  const optB = new SGD(b, { lr: 1, momentum: 0.1 });
  optB.loadStateDict(snapshot);
  for (let s = 2; s < 5; s++) {
    setGradients(a, grads[s]);
    optA.step();
    setGradients(b, grads[s]);
    optB.step();
  }
  assert.deepEqual(snapshot, copy, "the state dict is a copy");
  a.forEach((p, i) => assert.deepEqual(Array.from(b[i].data()), Array.from(p.data()), `param ${i}`));
  assert.deepEqual(optB.stateDict(), optA.stateDict());
  disposeAll([...a, ...b]);
});

// -------------------------------------------------------------------------- clipping

test("clipGradNorm returns the global L2 norm and scales gradients by maxNorm / (norm + 1e-6)", () => {
  const a = zeros([2]).requiresGrad_();
  const b = zeros([1, 1]).requiresGrad_();
  const c = zeros([3]).requiresGrad_(); // no gradient: skipped
  a.grad = fromArray([3, 4]);
  b.grad = fromArray([[12]]);
  // sqrt(9 + 16 + 144) = 13
  assert.equal(clipGradNorm([a, b, c], 20), 13);
  assert.deepEqual(Array.from(a.grad.data()), [3, 4], "below maxNorm: untouched");
  // A tensor listed twice (tied weights) counts once.
  assert.equal(clipGradNorm([a, b, a], 20), 13);
  assert.equal(clipGradNorm([a, b], 10), 13);
  const k = 10 / (13 + 1e-6);
  assert.deepEqual(Array.from(a.grad.data()), [Math.fround(3 * k), Math.fround(4 * k)]);
  assert.deepEqual(Array.from(b.grad.data()), [Math.fround(12 * k)]);
  const after = Math.hypot(3 * k, 4 * k, 12 * k);
  assert.ok(Math.abs(clipGradNorm([a, b], 100) - after) < 1e-6, "the clipped norm is maxNorm (up to 1e-6)");
  assert.equal(clipGradNorm([c], 1), 0, "no gradients: norm 0");
  disposeAll([a, b, c]);
});

test("clipGradNorm returns a non-finite norm as is and leaves the gradients untouched", () => {
  const a = zeros([2]).requiresGrad_();
  const b = zeros([2]).requiresGrad_();
  a.grad = fromArray([1e3, 2]);
  b.grad = fromArray([Infinity, 1]);
  assert.equal(clipGradNorm([a, b], 1), Infinity);
  assert.deepEqual(Array.from(a.grad.data()), [1e3, 2]);
  b.grad.data()[0] = NaN;
  assert.ok(Number.isNaN(clipGradNorm([a, b], 1)));
  assert.deepEqual(Array.from(a.grad.data()), [1e3, 2]);
  disposeAll([a, b]);
});

// --------------------------------------------------------------------------- bad input

test("bad hyperparameters throw RangeError/TypeError naming the argument", () => {
  const p = zeros([2, 2]).requiresGrad_();
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => new AdamW([p], { lr: -1 }), RangeError, /^AdamW: lr must be a finite number >= 0, received -1$/],
    [() => new AdamW([p], { lr: NaN }), RangeError, /^AdamW: lr must be a finite number >= 0, received NaN$/],
    [() => new AdamW([p], { lr: "1e-3" as unknown as number }), TypeError, /^AdamW: lr must be a finite number >= 0, received '1e-3'$/],
    [() => new AdamW([p], undefined as unknown as { lr: number }), TypeError, /^AdamW: options must be an object/],
    [() => new AdamW([p], { lr: 1e-3, betas: [0.9, 1] }), RangeError, /^AdamW: betas\[1\] must be a number in \[0, 1\), received 1$/],
    [() => new AdamW([p], { lr: 1e-3, betas: [-0.1, 0.9] }), RangeError, /^AdamW: betas\[0\] must be a number in \[0, 1\), received -0.1$/],
    [() => new AdamW([p], { lr: 1e-3, betas: [0.9] as unknown as [number, number] }), TypeError, /^AdamW: betas must be an array of two numbers/],
    [() => new AdamW([p], { lr: 1e-3, eps: 0 }), RangeError, /^AdamW: eps must be a finite number > 0, received 0$/],
    [() => new AdamW([p], { lr: 1e-3, weightDecay: -0.1 }), RangeError, /^AdamW: weightDecay must be a finite number >= 0, received -0.1$/],
    [() => new AdamW([{ params: [p], lr: -2 }], { lr: 1e-3 }), RangeError, /^AdamW: params\[0\]\.lr must be a finite number >= 0, received -2$/],
    [() => new SGD([p], { lr: -0.5 }), RangeError, /^SGD: lr must be a finite number >= 0, received -0.5$/],
    [() => new SGD([p], { lr: 0.1, momentum: -0.9 }), RangeError, /^SGD: momentum must be a finite number >= 0, received -0.9$/],
    [() => new SGD([p], { lr: 0.1, nesterov: true }), RangeError, /^SGD: nesterov needs momentum > 0, received momentum 0$/],
    [() => new SGD([p], { lr: 0.1, nesterov: 1 as unknown as boolean }), TypeError, /^SGD: nesterov must be a boolean, received 1$/],
    [() => new AdamW([p], { lr: 1 }).setLr(-1), RangeError, /^AdamW\.setLr: lr must be a finite number >= 0, received -1$/],
    [() => new AdamW([p], { lr: 1 }).setWeightDecay(0.1, 1), RangeError, /^AdamW\.setWeightDecay: groupIndex must be an integer in \[0, 0\], received 1$/],
    [() => new SGD([p], { lr: 1 }).setWeightDecay(-1), RangeError, /^SGD\.setWeightDecay: weightDecay must be a finite number >= 0, received -1$/],
    [() => AdamW.defaultGroups([["w", p]], -1), RangeError, /^AdamW\.defaultGroups: weightDecay must be a finite number >= 0, received -1$/],
    [() => AdamW.defaultGroups(5 as unknown as [string, Tensor][], 0.1), TypeError, /^AdamW\.defaultGroups: namedParams must be an iterable/],
    [() => AdamW.defaultGroups([[p, "w"] as unknown as [string, Tensor]], 0.1), TypeError, /^AdamW\.defaultGroups: namedParams entry 0 must be a \[name, Tensor\] pair/],
    [() => clipGradNorm([p], 0), RangeError, /^clipGradNorm: maxNorm must be a number > 0, received 0$/],
    [() => clipGradNorm(p as unknown as Tensor[], 1), TypeError, /^clipGradNorm: params must be an array of Tensors/],
  ];
  for (const [fn, type, message] of cases) assert.throws(fn, (e: Error) => e instanceof type && message.test(e.message), String(message));
  p.dispose();
});

test("bad parameters throw TypeError/RangeError naming the parameter", () => {
  const f = zeros([2, 2]).requiresGrad_();
  const noGradParam = zeros([2, 2]);
  const ints = fromArray([1, 2], { dtype: "i32" });
  const nonLeaf = mul(f, 2);
  const base = zeros([3, 2]);
  const strided = base.transpose(0, 1).requiresGrad_();
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => new AdamW([ints as unknown as Tensor<"f32">], { lr: 1 }), TypeError, /^AdamW: params\[0\] must be an f32 tensor, received i32$/],
    [() => new AdamW([f, noGradParam], { lr: 1 }), TypeError, /^AdamW: params\[1\] must require grad/],
    [() => new SGD([nonLeaf], { lr: 1 }), TypeError, /^SGD: params\[0\] must be a leaf tensor, received the result of 'mul'/],
    [() => new SGD([strided], { lr: 1 }), TypeError, /^SGD: params\[0\] must be contiguous, received strides \[1, 2\]$/],
    [() => new AdamW([{ params: [f] }, { params: [noGradParam] }], { lr: 1 }), TypeError, /^AdamW: params\[1\]\.params\[0\] must require grad/],
    [() => new AdamW([f, { params: [f] }] as unknown as Tensor<"f32">[], { lr: 1 }), TypeError, /^AdamW: params\[1\] must be a Tensor, received an object$/],
    [() => new AdamW([], { lr: 1 }), RangeError, /^AdamW: params must not be empty/],
    [() => new AdamW([{ params: [] }], { lr: 1 }), RangeError, /^AdamW: the parameter groups hold no parameters$/],
    [() => new AdamW([{ params: [f] }, { params: [f] }], { lr: 1 }), RangeError, /^AdamW: parameter 1 appears more than once/],
    [() => new SGD("w" as unknown as Tensor<"f32">[], { lr: 1 }), TypeError, /^SGD: params must be an array of f32 Tensors or of parameter groups/],
    [() => AdamW.defaultGroups([["w", noGradParam]], 0.1), TypeError, /^AdamW\.defaultGroups: the parameter 'w' must require grad/],
  ];
  for (const [fn, type, message] of cases) assert.throws(fn, (e: Error) => e instanceof type && message.test(e.message), String(message));
  disposeAll([f, noGradParam, ints, nonLeaf, strided, base]);
});

test("a gradient of the wrong shape or dtype fails the whole step before any parameter changes", () => {
  const a = fromArray([1, 2, 3, 4, 5, 6], { shape: [2, 3] }).requiresGrad_();
  const b = fromArray([1, 2]).requiresGrad_();
  for (const opt of [new AdamW([a, b], { lr: 0.1 }), new SGD([a, b], { lr: 0.1 })]) {
    const name = opt instanceof AdamW ? "AdamW" : "SGD";
    a.grad = fromArray([1, 1, 1, 1, 1, 1], { shape: [2, 3] });
    b.grad = fromArray([1, 1, 1], { shape: [3] });
    assert.throws(() => opt.step(), new RegExp(`^RangeError: ${name}\\.step: the gradient of parameter 1 has shape \\[3\\], expected the parameter's shape \\[2\\]$`));
    assert.deepEqual(Array.from(a.data()), [1, 2, 3, 4, 5, 6], "parameter 0 unchanged");
    b.grad.dispose();
    b.grad = fromArray([1, 1], { dtype: "i32" }) as unknown as Tensor<"f32">;
    assert.throws(() => opt.step(), new RegExp(`^TypeError: ${name}\\.step: the gradient of parameter 1 must be f32, received i32$`));
    b.grad.dispose();
    b.grad = fromArray([3, 4]);
    assert.throws(() => clipGradNorm([a, b, 7 as unknown as Tensor], 1), /^TypeError: clipGradNorm: params\[2\] must be a Tensor, received 7$/);
    opt.zeroGrad();
  }
  const c = fromArray([0]).requiresGrad_();
  const opt = new SGD([a, c], { lr: 1 });
  c.dispose();
  assert.throws(() => opt.step(), /^Error: SGD\.step: parameter 1 was disposed$/);
  disposeAll([a, b]);
});

test("loadStateDict rejects a state for other parameters or another optimizer and changes nothing", () => {
  const a = zeros([2, 3]).requiresGrad_();
  const b = zeros([4]).requiresGrad_();
  const c = zeros([3, 2]).requiresGrad_();
  const two = new AdamW([a, b], { lr: 0.1 });
  a.grad = fromArray([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
  two.step();
  const state = two.stateDict();
  const three = new AdamW([a, b, c], { lr: 0.2 });
  assert.throws(() => three.loadStateDict(state), /^RangeError: AdamW\.loadStateDict: state\.groups\[0\] holds 2 parameters, this optimizer's group 0 holds 3$/);
  const grouped = new AdamW([{ params: [a] }, { params: [b] }], { lr: 0.2 });
  assert.throws(() => grouped.loadStateDict(state), /^RangeError: AdamW\.loadStateDict: state\.groups has 1 groups, this optimizer has 2$/);
  const reshaped = new AdamW([c, b], { lr: 0.2 });
  assert.throws(() => reshaped.loadStateDict(state), /^RangeError: AdamW\.loadStateDict: parameter 0 of the state has shape \[2, 3\], this optimizer's has \[3, 2\]$/);
  const fresh = new AdamW([a, b], { lr: 0.2 });
  const shortMoment: AdamWStateDict = { ...state, state: [{ step: 1, expAvg: new Float32Array(5), expAvgSq: new Float32Array(6) }, null] };
  assert.throws(() => fresh.loadStateDict(shortMoment), /^RangeError: AdamW\.loadStateDict: state\.state\[0\]\.expAvg must have 6 elements \(the parameter's\), received 5$/);
  const badStep: AdamWStateDict = { ...state, state: [{ step: 0.5, expAvg: new Float32Array(6), expAvgSq: new Float32Array(6) }, null] };
  assert.throws(() => fresh.loadStateDict(badStep), /^RangeError: AdamW\.loadStateDict: state\.state\[0\]\.step must be an integer >= 1, received 0.5$/);
  assert.throws(() => fresh.loadStateDict({ ...state, betas: [0.9, 1.5] }), /^RangeError: AdamW\.loadStateDict: state\.betas\[1\] must be a number in \[0, 1\), received 1.5$/);
  const sgd = new SGD([a, b], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => sgd.loadStateDict(state as unknown as SGDStateDict), /^TypeError: SGD\.loadStateDict: state must come from SGD\.stateDict\(\), received the state of 'AdamW'$/);
  assert.throws(() => fresh.loadStateDict(null as unknown as AdamWStateDict), /^TypeError: AdamW\.loadStateDict: state must be an object/);
  const sgdState = sgd.stateDict();
  assert.throws(
    () => sgd.loadStateDict({ ...sgdState, state: [{ step: 1, momentumBuffer: new Float64Array(6) as unknown as Float32Array }, null] }),
    /^TypeError: SGD\.loadStateDict: state\.state\[0\]\.momentumBuffer must be a Float32Array, received Float64Array\(6\)$/,
  );
  // Nothing was applied by the rejected loads.
  assert.deepEqual(fresh.stateDict().state, [null, null]);
  assert.equal(fresh.paramGroups[0].lr, 0.2);
  disposeAll([a, b, c]);
});

test("AdamW on a tensor large enough for the native kernel matches the float64 formula bit for bit", () => {
  const n = (1 << 15) + 77;
  const p = randn([n], { seed: 3 }).requiresGrad_();
  const opt = new AdamW([p], { lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 });
  const ref = Float64Array.from(p.toFloat32Array());
  const m = new Float32Array(n), v = new Float32Array(n), pr = Float32Array.from(p.toFloat32Array());
  for (let step = 1; step <= 3; step++) {
    const g = randn([n], { seed: 10 + step });
    p.grad = g;
    opt.step();
    const gd = g.toFloat32Array();
    const bias1 = 1 - 0.9 ** step, bias2 = 1 - 0.95 ** step;
    for (let i = 0; i < n; i++) {
      const mi = 0.9 * m[i] + (1 - 0.9) * gd[i];
      const vi = 0.95 * v[i] + (1 - 0.95) * gd[i] * gd[i];
      m[i] = mi;
      v[i] = vi;
      pr[i] = pr[i] * (1 - 0.01 * 0.1) - ((0.01 / bias1) * mi) / (Math.sqrt(vi) / Math.sqrt(bias2) + 1e-8);
    }
    opt.zeroGrad();
  }
  assert.deepEqual(p.toFloat32Array(), pr);
  void ref;
  p.dispose();
});

test("clipGradNorm over large gradients (native sum of squares) is the same at 1 and 2 threads and matches float64", () => {
  const p = randn([300_001], { seed: 31 }).requiresGrad_();
  const g = randn([300_001], { seed: 32 });
  let ref = 0;
  for (const v of g.toFloat32Array()) ref += v * v;
  const before = getNumThreads();
  const norms: number[] = [];
  try {
    for (const t of [1, 2]) {
      setNumThreads(t);
      p.grad = g.clone();
      norms.push(clipGradNorm([p], 1e9));
      p.grad.dispose();
      p.grad = null;
    }
  } finally {
    setNumThreads(before);
  }
  assert.equal(norms[0], norms[1]);
  assert.ok(Math.abs(norms[0] - Math.sqrt(ref)) <= 1e-12 * Math.sqrt(ref), `${norms[0]} vs ${Math.sqrt(ref)}`);
  p.dispose();
  g.dispose();
});
