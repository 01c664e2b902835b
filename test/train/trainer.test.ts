// The trainer on a small BitNet LM: deterministic curves (same seed and threads, and 1 vs 2
// threads), bit-identical resume from a checkpoint, stop(), divergence, and bad checkpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Generator, getNumThreads, InterruptedError, interruptRunning, noGrad, setNumThreads, Tensor } from "../../src";
import { BitNetLM } from "../../src/nn";
import { CharTokenizer, TextDataset } from "../../src/data";
import { AdamW, SGD } from "../../src/train/optim";
import { twoStage } from "../../src/train/schedule";
import { Trainer, TrainingDivergedError } from "../../src/train/trainer";
import { crossEntropy } from "../../src/ops";

const TEXT = "the quick brown fox jumps over the lazy dog. ".repeat(900) + "pack my box with five dozen liquor jugs! ".repeat(700);
const tokenizer = CharTokenizer.fromText(TEXT);
const data = TextDataset.fromText(TEXT, tokenizer);

function setup(opts: { seed?: number; linear?: "bitnet" | "fp32"; lossHook?: (step: number, loss: Tensor<"f32">) => Tensor<"f32"> } = {}) {
  const model = new BitNetLM(
    { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: tokenizer.vocabSize, linear: opts.linear ?? "bitnet" },
    { seed: opts.seed ?? 0 },
  );
  const [decay, noDecay] = AdamW.defaultGroups(model.namedParameters(), 0.1);
  const optimizer = new AdamW([decay, noDecay], { lr: 2e-3, betas: [0.9, 0.95], eps: 1e-8 });
  let current = 0;
  const trainer = new Trainer({
    model,
    optimizer,
    seed: 1234,
    gradClip: 1,
    schedule: twoStage({ peakLr: 4e-3, secondPeakLr: 1e-3, warmupSteps: 3, totalSteps: 20, weightDecay: 0.1 }),
    nextBatch: (g, step) => {
      current = step;
      return data.batch(4, 16, g);
    },
    loss: (b) => {
      const logits = model.forward(b.inputs);
      const flat = logits.reshape([-1, tokenizer.vocabSize]);
      const loss = crossEntropy(flat, b.targets.reshape([-1]));
      return opts.lossHook ? opts.lossHook(current, loss) : loss;
    },
    batchSize: (b) => b.inputs.numel,
    evaluate: () => {
      let total = 0, n = 0;
      for (const b of data.validationBatches(8, 16)) {
        const l = crossEntropy(model.forward(b.inputs).reshape([-1, tokenizer.vocabSize]), b.targets.reshape([-1]));
        total += l.item() * b.targets.numel;
        n += b.targets.numel;
        b.inputs.dispose();
        b.targets.dispose();
        if (n > 2000) break;
      }
      return total / n;
    },
  });
  return { model, optimizer, trainer };
}

async function curve(threads: number, steps = 20): Promise<number[]> {
  const before = getNumThreads();
  setNumThreads(threads);
  try {
    const { model, trainer } = setup();
    await trainer.fit({ steps });
    model.dispose();
    return trainer.history.map((r) => r.loss);
  } finally {
    setNumThreads(before);
  }
}

test("the same seed gives a bit-identical loss curve over 20 steps, at 1 and at 2 threads, and the loss falls", async () => {
  const a1 = await curve(1);
  const b1 = await curve(1);
  const a2 = await curve(2);
  const b2 = await curve(2);
  assert.deepEqual(b1, a1, "1 thread, run twice");
  assert.deepEqual(b2, a2, "2 threads, run twice");
  assert.deepEqual(a2, a1, "the kernels split work without changing any sum: 1 and 2 threads agree too");
  assert.ok(a1[19] < a1[0] - 0.2, `loss should fall: ${a1[0]} -> ${a1[19]}`);
});

test("a run resumed from a checkpoint continues bit-identically, and evaluation and metrics are recorded", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "bitnet-trainer-"));
  try {
    const ckpt = path.join(dir, "run.safetensors");
    const full = setup();
    await full.trainer.fit({ steps: 20, evalEvery: 10 });
    const half = setup();
    const r = await half.trainer.fit({ steps: 10, checkpointPath: ckpt });
    assert.equal(r.step, 10);
    const resumed = setup({ seed: 99 }); // different initial weights: the checkpoint must replace them
    resumed.trainer.loadCheckpoint(ckpt);
    assert.equal(resumed.trainer.step, 10);
    await resumed.trainer.fit({ steps: 10 });
    assert.deepEqual(resumed.trainer.history.map((m) => m.loss), full.trainer.history.map((m) => m.loss));
    for (const [[name, p], [, q]] of full.model.namedParameters().map((e, i) => [e, resumed.model.namedParameters()[i]] as const)) {
      assert.deepEqual(q.toFloat32Array(), p.toFloat32Array(), `parameter ${name}`);
    }
    const h = full.trainer.history;
    assert.equal(h.filter((m) => m.evalLoss !== null).length, 2);
    assert.ok(h[19].evalLoss! < h[9].evalLoss!, "validation loss falls between step 10 and 20");
    const table = full.trainer.metricsTable();
    assert.equal(table.numRows, 20);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ["step", "loss", "evalLoss", "lr", "gradNorm", "tokensPerSecond", "elapsedSeconds"]);
    assert.equal(table.getChild("step")!.get(19), 20);
    assert.ok(h.every((m) => m.tokensPerSecond > 0 && m.gradNorm > 0));
    // Two-stage schedule: the learning rate drops abruptly at the middle step.
    assert.ok(h[10].lr < h[9].lr * 0.8, `lr ${h[9].lr} -> ${h[10].lr}`);
    for (const s of [full, half, resumed]) s.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stop() ends fit() at a step boundary; a non-finite loss stops training naming the step, weights untouched", async () => {
  const { model, trainer } = setup();
  const r = await trainer.fit({ steps: 10, onStep: (m) => (m.step === 3 ? trainer.stop() : undefined) });
  assert.deepEqual(r, { step: 3, stopped: true, loss: trainer.history[2].loss });
  model.dispose();

  const bad = setup({ lossHook: (step, loss) => (step === 2 ? nanLike(loss) : loss) });
  await bad.trainer.fit({ steps: 2 });
  const before = bad.model.namedParameters().map(([, p]) => p.toFloat32Array());
  await assert.rejects(bad.trainer.fit({ steps: 5 }), (e: Error) => e instanceof TrainingDivergedError && /the loss is NaN at step 2/.test(e.message));
  assert.equal(bad.trainer.step, 2);
  bad.model.namedParameters().forEach(([name, p], i) => assert.deepEqual(p.toFloat32Array(), before[i], `${name} changed`));
  assert.equal(bad.trainer.running, false);
  bad.model.dispose();
});

test("an interrupt (interruptRunning, what the kernel calls) ends fit() between steps with InterruptedError; the run continues like one never interrupted", async () => {
  const { model, trainer } = setup();
  const ref = setup();
  await ref.trainer.fit({ steps: 5 });
  // The interrupt arrives from the event loop while fit() is between steps, as the kernel's does.
  const running = trainer.fit({ steps: 10, onStep: (m) => (m.step === 2 ? setImmediate(() => assert.equal(interruptRunning(), 1)) : undefined) });
  await assert.rejects(running, (e: Error) => e instanceof InterruptedError && /^Trainer.fit: interrupted before step [34] \(the model and optimizer hold step [23]; fit\(\) again to continue\)$/.test(e.message));
  assert.equal(trainer.running, false);
  assert.equal(interruptRunning(), 0, "fit() unregistered its handler");
  await trainer.fit({ steps: 5 - trainer.step });
  assert.deepEqual(trainer.history.map((m) => m.loss), ref.trainer.history.map((m) => m.loss), "the interrupted run continues bit-identically");
  model.dispose();
  ref.model.dispose();
});

function nanLike(loss: Tensor<"f32">): Tensor<"f32"> {
  const t = Tensor.empty(loss.shape, "f32");
  t.data()[0] = NaN;
  return t;
}

test("loading a checkpoint of another model, or a file that is not a checkpoint, is a clear error", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "bitnet-trainer-"));
  try {
    const ckpt = path.join(dir, "a.safetensors");
    const a = setup();
    await a.trainer.fit({ steps: 1, checkpointPath: ckpt });
    const other = new BitNetLM({ hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: tokenizer.vocabSize });
    const t = new Trainer({ model: other, optimizer: new AdamW(other.parameters(), { lr: 1e-3 }), nextBatch: () => null, loss: () => Tensor.empty([], "f32") });
    assert.throws(() => t.loadCheckpoint(ckpt), /Trainer.loadCheckpoint: '.*a.safetensors' is a checkpoint of another model: parameter 'model.layers.0.mlp.gate_proj.weight' is \[48, 32\] there and \[64, 32\] here/);
    assert.throws(() => t.loadCheckpoint(path.join(dir, "missing.safetensors")), /missing.safetensors/);
    assert.throws(() => new Trainer({ model: other, optimizer: new AdamW(other.parameters(), { lr: 1e-3 }), nextBatch: () => null, loss: () => Tensor.empty([], "f32"), gradClip: -1 }), /Trainer: gradClip must be a finite number > 0, received -1/);
    await assert.rejects(t.fit({ steps: -1 }), /Trainer.fit: steps must be an integer >= 0, received -1/);
    a.model.dispose();
    other.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gradient accumulation averages the micro-batches' gradients; onProgress reports the run", async () => {
  const make = () => new BitNetLM({ hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: tokenizer.vocabSize, linear: "fp32" }, { seed: 3 });
  const lossOf = (model: BitNetLM, b: { inputs: Tensor<"i32">; targets: Tensor<"i32"> }) =>
    crossEntropy(model.forward(b.inputs).reshape([-1, tokenizer.vocabSize]), b.targets.reshape([-1]));
  const model = make();
  const progress: number[] = [];
  const trainer = new Trainer({
    model,
    optimizer: new SGD(model.parameters(), { lr: 0.5 }),
    seed: 5,
    accumulationSteps: 2,
    nextBatch: (g) => data.batch(3, 8, g),
    loss: (b) => lossOf(model, b),
  });
  await trainer.fit({ steps: 1, onProgress: (p) => progress.push(p.step, p.totalSteps, p.remainingSeconds) });
  assert.deepEqual(progress, [1, 1, 0]);
  // By hand: the same two batches, each loss's backward seeded with 1/2, then p -= 0.5 * grad.
  const manual = make();
  const g = new Generator(5);
  const half = Tensor.empty([], "f32");
  half.data()[0] = 0.5;
  const losses: number[] = [];
  for (let i = 0; i < 2; i++) {
    const b = data.batch(3, 8, g);
    const l = lossOf(manual, b);
    losses.push(l.item());
    l.backward(half);
    for (const t of [l, b.inputs, b.targets]) t.dispose();
  }
  noGrad(() => {
    for (const p of manual.parameters()) {
      const d = p.data(), gd = p.grad!.data();
      for (let i = 0; i < d.length; i++) d[i] = d[i] - 0.5 * gd[i];
    }
  });
  assert.equal(trainer.history[0].loss, (losses[0] + losses[1]) / 2);
  model.namedParameters().forEach(([name, p], i) => assert.deepEqual(p.toFloat32Array(), manual.parameters()[i].toFloat32Array(), name));
  model.dispose();
  manual.dispose();
  half.dispose();
});
