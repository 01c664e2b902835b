// The module system (registration, names, state dicts, modes, printing, disposal), the basic
// layers against float64 references, and the MLP classifier.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, Generator, fromArray, memoryStats, noGrad, randn, tidy, zeros } from "../../src";
import { crossEntropy, linear } from "../../src/ops";
import { Module, ModuleList, Linear, BitLinear, Embedding, RMSNorm, MLPClassifier, INIT_STD } from "../../src/nn";

/** A two-level toy model: a Linear, a list of two RMSNorms, an own parameter and a buffer. */
class Toy extends Module {
  readonly proj: Linear;
  readonly norms: ModuleList<RMSNorm>;
  readonly scale: Tensor<"f32">;
  readonly steps: Tensor<"i32">;
  constructor(seed: number) {
    super();
    const generator = new Generator(seed);
    this.scale = this.registerParameter("scale", randn([3], { generator }));
    this.steps = this.registerBuffer("steps", fromArray([7], { dtype: "i32" }));
    this.proj = this.registerModule("proj", new Linear(4, 3, { generator }));
    this.norms = this.registerModule("norms", new ModuleList([new RMSNorm(3), new RMSNorm(3)]));
  }
}

test("names, order and counts of parameters and buffers", () => {
  const m = new Toy(1);
  assert.deepEqual(
    m.namedParameters().map(([n, p]) => [n, [...p.shape]]),
    [
      ["scale", [3]],
      ["proj.weight", [3, 4]],
      ["norms.0.weight", [3]],
      ["norms.1.weight", [3]],
    ],
  );
  assert.deepEqual(m.parameters(), m.namedParameters().map(([, p]) => p));
  assert.equal(m.numParameters(), 3 + 12 + 3 + 3);
  assert.ok(m.parameters().every((p) => p.requiresGrad && p.dtype === "f32"));
  assert.deepEqual(m.namedBuffers().map(([n]) => n), ["steps"]);
  assert.deepEqual(m.namedModules().map(([n, mod]) => [n, mod.constructor.name]), [
    ["", "Toy"],
    ["proj", "Linear"],
    ["norms", "ModuleList"],
    ["norms.0", "RMSNorm"],
    ["norms.1", "RMSNorm"],
  ]);
  assert.equal(m.norms.length, 2);
  assert.equal(m.norms.at(-1), [...m.norms][1]);
  tidy(() => {
    const sd = m.stateDict();
    assert.deepEqual([...sd.keys()], ["scale", "proj.weight", "norms.0.weight", "norms.1.weight", "steps"]);
    assert.deepEqual(sd.get("steps")!.values(), [7]);
  });
  m.dispose();
});

test("registration errors name the module and the entry", () => {
  class Bad extends Module {
    constructor(kind: string) {
      super();
      const t = zeros([2]);
      if (kind === "dup") {
        this.registerParameter("w", t);
        this.registerParameter("w", zeros([2]));
      } else if (kind === "dot") this.registerParameter("a.b", t);
      else if (kind === "dtype") this.registerParameter("w", fromArray([1], { dtype: "i32" }) as unknown as Tensor<"f32">);
      else this.registerModule("m", {} as Module);
    }
  }
  assert.throws(() => new Bad("dup"), /^RangeError: Bad.registerParameter: 'w' is already registered/);
  assert.throws(() => new Bad("dot"), /^RangeError: Bad.registerParameter: name must be a non-empty string without '\.', received 'a\.b'/);
  assert.throws(() => new Bad("dtype"), /^TypeError: Bad.registerParameter: 'w' must have dtype 'f32', received 'i32'/);
  assert.throws(() => new Bad("module"), /^TypeError: Bad.registerModule: module must be a Module, received an object/);
  assert.throws(() => new ModuleList([new RMSNorm(2)]).at(1), /^RangeError: ModuleList.at: index must be in \[-1, 0\], received 1/);
});

test("stateDict round trip copies values; loadStateDict checks everything before copying", () => {
  const a = new Toy(1);
  const b = new Toy(2);
  tidy(() => {
    const sa = a.stateDict();
    assert.notDeepEqual(b.proj.weight.values(), a.proj.weight.values());
    const result = b.loadStateDict(sa);
    assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
    for (const [name, p] of b.namedParameters()) assert.deepEqual(p.values(), sa.get(name)!.values(), name);
    // The values were copied: changing a afterwards leaves b alone.
    a.scale.data()[0] += 1;
    assert.notEqual(b.scale.data()[0], a.scale.data()[0]);
    assert.ok(b.scale.requiresGrad && b.scale.grad === null && b.scale.gradNode === null);
  });

  const c = new Toy(3);
  tidy(() => {
    const before = c.proj.weight.values();
    const missing = a.stateDict();
    missing.delete("norms.1.weight");
    assert.throws(() => c.loadStateDict(missing), /^RangeError: Toy.loadStateDict: missing keys \(strict\): 'norms.1.weight' \[3\] f32/);

    const extra = a.stateDict();
    extra.set("head.weight", zeros([5, 3]));
    assert.throws(() => c.loadStateDict(extra), /^RangeError: Toy.loadStateDict: unexpected keys \(strict\): 'head.weight' \[5, 3\] f32/);

    const wrongShape = a.stateDict();
    wrongShape.set("proj.weight", zeros([4, 3]));
    assert.throws(() => c.loadStateDict(wrongShape), /^RangeError: Toy.loadStateDict: shape mismatch for 'proj.weight': the model has \[3, 4\], the state dict has \[4, 3\]/);
    // Even non-strict loading refuses a wrong shape.
    assert.throws(() => c.loadStateDict(wrongShape, { strict: false }), /shape mismatch for 'proj.weight'/);

    const wrongDtype = a.stateDict();
    wrongDtype.set("steps", fromArray([1]));
    assert.throws(() => c.loadStateDict(wrongDtype), /^TypeError: Toy.loadStateDict: dtype mismatch for 'steps': the model has 'i32', the state dict has 'f32'/);
    assert.throws(() => c.loadStateDict({} as Map<string, Tensor>), /^TypeError: Toy.loadStateDict: state must be a Map/);
    assert.throws(() => c.loadStateDict(a.stateDict(), { strict: 1 as unknown as boolean }), /^TypeError: Toy.loadStateDict: strict must be a boolean, received 1/);
    // A failed load changed nothing (scale is checked before proj.weight, and was not written).
    assert.deepEqual(c.proj.weight.values(), before);

    // Non-strict: loads the intersection and reports the rest.
    const partial = a.stateDict();
    partial.delete("scale");
    partial.set("extra", zeros([1]));
    const r = c.loadStateDict(partial, { strict: false });
    assert.deepEqual(r, { missingKeys: ["scale"], unexpectedKeys: ["extra"] });
    assert.deepEqual(c.proj.weight.values(), a.proj.weight.values());
    assert.notDeepEqual(c.scale.values(), a.scale.values());
  });
  for (const m of [a, b, c]) m.dispose();
});

test("loading a transposed (strided) tensor copies its logical values", () => {
  const m = new Linear(2, 3, { generator: new Generator(0) });
  tidy(() => {
    const t = fromArray([[1, 2, 3], [4, 5, 6]]).transpose(0, 1); // [3, 2], not contiguous
    m.loadStateDict(new Map([["weight", t]]));
    assert.deepEqual(m.weight.toArray(), [[1, 4], [2, 5], [3, 6]]);
  });
  m.dispose();
});

test("train() / eval() set the flag on every module", () => {
  const m = new Toy(1);
  assert.ok(m.namedModules().every(([, x]) => x.training));
  assert.equal(m.eval(), m);
  assert.ok(m.namedModules().every(([, x]) => !x.training));
  m.norms.at(0).train();
  assert.deepEqual(m.namedModules().map(([, x]) => x.training), [false, false, false, true, false]);
  m.train();
  assert.ok(m.namedModules().every(([, x]) => x.training));
  assert.throws(() => m.train("yes" as unknown as boolean), /^TypeError: Toy.train: mode must be a boolean, received 'yes'/);
  m.dispose();
});

test("toString prints the tree with shapes and counts, folding identical list entries", () => {
  const m = new Toy(1);
  const s = m.toString();
  assert.equal(
    s,
    [
      "Toy(  # 21 parameters",
      "  (scale): f32 [3]",
      "  (steps): i32 [1]",
      "  (proj): Linear(inFeatures=4, outFeatures=3)  # weight [3, 4]: 12 parameters",
      "  (norms): ModuleList(  # 6 parameters",
      "    (0-1): 2 x RMSNorm(3, eps=0.00001)  # weight [3]: 3 parameters each",
      "  )",
      ")",
    ].join("\n"),
  );
  assert.equal(new BitLinear(8, 4).toString(), "BitLinear(inFeatures=8, outFeatures=4, lambda=1)  # weight [4, 8]: 32 parameters");
  m.dispose();
});

test("zeroGrad and dispose free what the module owns", () => {
  const live = memoryStats().liveTensors;
  const m = new Toy(1);
  tidy(() => {
    const y = m.proj.forward(fromArray([[1, 2, 3, 4]]));
    m.norms.at(0).forward(y).backward(fromArray([[1, 1, 1]]));
  });
  assert.ok(m.proj.weight.grad !== null && m.norms.at(0).weight.grad !== null);
  m.zeroGrad();
  assert.ok(m.parameters().every((p) => p.grad === null));
  m.dispose();
  assert.equal(memoryStats().liveTensors, live);
  assert.ok(m.disposed && m.proj.disposed);
  assert.throws(() => m.proj.forward(fromArray([[1, 2, 3, 4]])), /^Error: Linear.forward: the module was disposed/);
  assert.throws(() => m.stateDict(), /^Error: Toy.stateDict: the module was disposed/);
  m.dispose(); // idempotent
  assert.match(m.toString(), /# disposed/);
});

test("Linear, Embedding and RMSNorm against float64 references; N(0, 0.02) init", () => {
  const g = new Generator(5);
  const lin = new Linear(6, 4, { generator: g });
  const w = lin.weight.toFloat32Array();
  // Init: sample std of 24 N(0, 0.02) values (loose: the point is the scale, not the sampling).
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(std > 0.01 && std < 0.03, `std ${std}`);
  assert.equal(INIT_STD, 0.02);
  const xv = [0.5, -1, 2, 0.25, -0.75, 1.5, 1, 1, -2, 0, 3, -0.5];
  tidy(() => {
    const y = lin.forward(fromArray(xv, { shape: [2, 6] })).toFloat32Array();
    for (let r = 0; r < 2; r++) {
      for (let o = 0; o < 4; o++) {
        let s = 0;
        for (let i = 0; i < 6; i++) s += xv[r * 6 + i] * w[o * 6 + i];
        assert.ok(Math.abs(y[r * 4 + o] - s) < 1e-6, `linear [${r}, ${o}]`);
      }
    }
    const norm = new RMSNorm(6, { eps: 1e-5 });
    norm.weight.data().set([1, 2, 0.5, -1, 1, 3]);
    const n = norm.forward(fromArray(xv, { shape: [2, 6] })).toFloat32Array();
    for (let r = 0; r < 2; r++) {
      let ms = 0;
      for (let i = 0; i < 6; i++) ms += xv[r * 6 + i] ** 2;
      const rstd = 1 / Math.sqrt(ms / 6 + 1e-5);
      const nw = [1, 2, 0.5, -1, 1, 3];
      for (let i = 0; i < 6; i++) assert.ok(Math.abs(n[r * 6 + i] - xv[r * 6 + i] * rstd * nw[i]) < 1e-5);
    }
    norm.dispose();
    const emb = new Embedding(5, 3, { generator: new Generator(1) });
    const e = emb.weight.toFloat32Array();
    const out = emb.forward(fromArray([[4, 0], [2, 4]], { dtype: "i32" }));
    assert.deepEqual(out.shape, [2, 2, 3]);
    assert.deepEqual([...out.toFloat32Array()], [...e.slice(12, 15), ...e.slice(0, 3), ...e.slice(6, 9), ...e.slice(12, 15)]);
    emb.dispose();
  });
  lin.dispose();
});

test("BitLinear: lambda 0 is the float linear, lambda is settable and validated", () => {
  const bl = new BitLinear(16, 8, { generator: new Generator(2) });
  tidy(() => {
    const x = randn([3, 16], { seed: 4 });
    const full = bl.forward(x).toFloat32Array();
    const ref = linear(x, bl.weight).toFloat32Array();
    // Full quantization moves the output (ternary weights), but stays correlated with it.
    let diff = 0;
    for (let i = 0; i < full.length; i++) diff = Math.max(diff, Math.abs(full[i] - ref[i]));
    assert.ok(diff > 1e-4, "lambda = 1 quantizes");
    bl.lambda = 0;
    const off = bl.forward(x).toFloat32Array();
    for (let i = 0; i < off.length; i++) assert.ok(Math.abs(off[i] - ref[i]) <= 1e-6 * Math.max(1, Math.abs(ref[i])), `lambda 0 at ${i}`);
  });
  assert.equal(bl.lambda, 0);
  assert.throws(() => { bl.lambda = 1.5; }, /^RangeError: BitLinear.lambda: lambda must be a number in \[0, 1\], received 1.5/);
  assert.throws(() => new BitLinear(4, 4, { lambda: NaN }), /^RangeError: BitLinear: lambda must be a number in \[0, 1\], received NaN/);
  bl.dispose();
});

test("layer arguments are validated", () => {
  assert.throws(() => new Linear(0, 3), /^RangeError: Linear: inFeatures must be a positive integer, received 0/);
  assert.throws(() => new Linear(3, 2.5), /^RangeError: Linear: outFeatures must be a positive integer, received 2.5/);
  assert.throws(() => new BitLinear("4" as unknown as number, 3), /^TypeError: BitLinear: inFeatures must be a positive integer, received '4'/);
  assert.throws(() => new Linear(3, 2, { generator: 1 as unknown as Generator }), /^TypeError: Linear: generator must be a Generator, received 1/);
  assert.throws(() => new Embedding(-1, 3), /^RangeError: Embedding: numEmbeddings must be a positive integer, received -1/);
  assert.throws(() => new RMSNorm(4, { eps: 0 }), /^RangeError: RMSNorm: eps must be a finite number > 0, received 0/);
  const lin = new Linear(3, 2);
  assert.throws(() => lin.forward(zeros([2, 4])), /^RangeError: Linear.forward: x must have shape \[\.\.\., 3\], received \[2, 4\]/);
  assert.throws(() => lin.forward(fromArray([1, 2, 3], { dtype: "i32" }) as unknown as Tensor<"f32">), /^TypeError: Linear.forward: x must have dtype 'f32', received 'i32'/);
  lin.dispose();
});

test("MLPClassifier: structure, names, counts, one SGD step lowers the loss in both modes", () => {
  const m = new MLPClassifier({ sizes: [784, 512, 512, 10] });
  assert.deepEqual(m.namedParameters().map(([n, p]) => `${n} [${p.shape.join(", ")}]`), [
    "norms.0.weight [784]",
    "norms.1.weight [512]",
    "hidden.0.weight [512, 784]",
    "hidden.1.weight [512, 512]",
    "head.weight [10, 512]",
  ]);
  assert.equal(m.numParameters(), 784 + 512 + 784 * 512 + 512 * 512 + 512 * 10);
  assert.ok(m.hidden.at(0) instanceof BitLinear && m.hidden.at(1) instanceof BitLinear);
  assert.ok(m.head instanceof Linear && !(m.head instanceof BitLinear));
  m.dispose();
  const fp = new MLPClassifier({ sizes: [784, 512, 512, 10], linear: "fp32" });
  assert.ok([...fp.hidden].every((l) => l instanceof Linear));
  fp.dispose();

  for (const kind of ["bitnet", "fp32"] as const) {
    const mlp = new MLPClassifier({ sizes: [20, 32, 16, 5], linear: kind, seed: 9 });
    const x = randn([12, 20], { seed: 3 });
    const y = fromArray([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1], { dtype: "i32" });
    const before = tidy(() => {
      const logits = mlp.forward(x);
      assert.deepEqual(logits.shape, [12, 5]);
      const loss = crossEntropy(logits, y);
      loss.backward();
      return loss.item();
    });
    noGrad(() => {
      for (const p of mlp.parameters()) {
        const w = p.data();
        const gr = p.grad!.data();
        for (let i = 0; i < w.length; i++) w[i] -= 0.1 * gr[i];
      }
    });
    mlp.zeroGrad();
    const after = noGrad(() => tidy(() => crossEntropy(mlp.forward(x), y).item()));
    assert.ok(after < before, `${kind}: loss ${before} -> ${after}`);
    x.dispose();
    y.dispose();
    mlp.dispose();
  }
  assert.throws(() => new MLPClassifier({ sizes: [784] }), /^RangeError: MLPClassifier: sizes must list at least the input and output widths, received 1 entries/);
  assert.throws(() => new MLPClassifier({ sizes: [784, -3, 10] }), /^RangeError: MLPClassifier: sizes\[1\] must be a positive integer, received -3/);
  assert.throws(() => new MLPClassifier({ sizes: [4, 2], linear: "int8" as "fp32" }), /^RangeError: MLPClassifier: linear must be 'bitnet' or 'fp32', received 'int8'/);
  assert.throws(() => new MLPClassifier({ sizes: [4, 2], activation: "gelu" as "relu" }), /^RangeError: MLPClassifier: activation must be 'relu', 'relu2' or 'silu', received 'gelu'/);
  const small = new MLPClassifier({ sizes: [4, 2] });
  assert.throws(() => small.forward(zeros([3, 5])), /^RangeError: MLPClassifier.forward: x must have shape \[batch, 4\], received \[3, 5\]/);
  small.dispose();
});
