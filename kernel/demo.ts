// `bitnet-lab demo`: the main job end to end on the public API, headless: a small BitNet b1.58
// character model trained with QAT on the Brown corpus, its validation loss, a sampled text,
// and the profile of every native kernel the run used.
import {
  AdamW, BitNetLM, CharTokenizer, Generator, TextDataset, Trainer, brownCorpus, crossEntropy, noGrad, profile, tidy, twoStage, wrap, Tensor,
} from "../src";

export interface DemoOptions {
  steps: number;
  log: (line: string) => void;
}

/**
 * Continuation of `prompt` sampled at temperature 0.8 from a seeded generator (the model re-reads
 * its whole context each token: no KV cache yet).
 */
function sample(model: BitNetLM, tokenizer: CharTokenizer, prompt: string, length: number, context: number): string {
  const ids = Array.from(tokenizer.encode(prompt));
  const generator = new Generator(7);
  const u = new Float32Array(1);
  noGrad(() => {
    for (let i = 0; i < length; i++) {
      const window = ids.slice(-context);
      const next = tidy(() => {
        const logits = model.forward(wrap(Int32Array.from(window), { shape: [1, window.length], dtype: "i32" }));
        const v = model.config.vocab_size;
        const last = logits.toFloat32Array().subarray((window.length - 1) * v, window.length * v);
        let max = -Infinity;
        for (let j = 0; j < v; j++) max = Math.max(max, last[j]);
        const p = Array.from(last, (l) => Math.exp((l - max) / 0.8));
        const total = p.reduce((a, b) => a + b, 0);
        generator.uniform(u);
        let r = u[0] * total;
        for (let j = 0; j < v; j++) {
          r -= p[j];
          if (r <= 0) return j;
        }
        return v - 1;
      });
      ids.push(next);
    }
  });
  return tokenizer.decode(ids);
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { steps, log } = opts;
  const seq = 64;
  const batch = 16;
  const text = brownCorpus();
  const tokenizer = CharTokenizer.fromText(text);
  const data = TextDataset.fromText(text, tokenizer);
  log(`corpus: Brown, ${text.length} characters, vocabulary ${tokenizer.vocabSize}`);
  const model = new BitNetLM(
    { hidden_size: 128, intermediate_size: 344, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: tokenizer.vocabSize, max_position_embeddings: seq },
    { seed: 0 },
  );
  log(`model: BitNetLM (BitLinear projections, SubLN, gated ReLU^2), ${model.numParameters()} parameters`);
  const [decay, noDecay] = AdamW.defaultGroups(model.namedParameters(), 0.1);
  const optimizer = new AdamW([decay, noDecay], { lr: 3e-3, betas: [0.9, 0.95] });
  const loss = (b: { inputs: Tensor<"i32">; targets: Tensor<"i32"> }): Tensor<"f32"> =>
    crossEntropy(model.forward(b.inputs).reshape([-1, tokenizer.vocabSize]), b.targets.reshape([-1]));
  const trainer = new Trainer({
    model,
    optimizer,
    schedule: twoStage({ peakLr: 3e-3, secondPeakLr: 1.5e-3, warmupSteps: Math.max(1, Math.floor(steps / 10)), totalSteps: steps, weightDecay: 0.1 }),
    gradClip: 1,
    seed: 1,
    nextBatch: (g) => data.batch(batch, seq, g),
    loss,
    batchSize: (b) => b.inputs.numel,
  });
  const { report } = await profile(() =>
    trainer.fit({
      steps,
      onStep: (m) => {
        if (m.step === 1 || m.step % Math.max(1, Math.floor(steps / 10)) === 0 || m.step === steps) {
          log(`step ${String(m.step).padStart(4)}  loss ${m.loss.toFixed(3)}  lr ${m.lr.toExponential(2)}  ${Math.round(m.tokensPerSecond)} tokens/s`);
        }
      },
    }),
  );
  model.eval();
  let total = 0;
  let count = 0;
  for (const b of data.validationBatches(batch, seq)) {
    const l = noGrad(() => tidy(() => crossEntropy(model.forward(b.inputs).reshape([-1, tokenizer.vocabSize]), b.targets.reshape([-1]), { reduction: "sum" }).item()));
    total += l;
    count += b.targets.numel;
    b.inputs.dispose();
    b.targets.dispose();
    if (count >= 64 * 1024) break;
  }
  log(`validation loss: ${(total / count).toFixed(3)} nats/char over ${count} characters (uniform: ${Math.log(tokenizer.vocabSize).toFixed(3)})`);
  log(`sample: ${JSON.stringify(sample(model, tokenizer, "The ", 60, seq))}`);
  log("");
  log("kernel profile of the training run:");
  for (const line of report.toString().split("\n")) log(line);
  model.dispose();
  return 0;
}
