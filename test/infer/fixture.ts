// A small BitNet model trained for 30 QAT steps on a repeated sentence, shared by the inference
// tests: its logits are peaked enough that sampling, stops and batching have real work to do.
import { AdamW, BitNetLM, CharTokenizer, InferenceEngine, PackedModel, TextDataset, Trainer, crossEntropy } from "../../src";

export const TEXT = "the quick brown fox jumps over the lazy dog. ".repeat(200);
export const tokenizer = CharTokenizer.fromText(TEXT);

export async function trainedModel(): Promise<BitNetLM> {
  const data = TextDataset.fromText(TEXT, tokenizer);
  const lm = new BitNetLM({ hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: tokenizer.vocabSize, max_position_embeddings: 64 }, { seed: 3 });
  const trainer = new Trainer({
    model: lm, optimizer: new AdamW(lm.parameters(), { lr: 3e-3 }), seed: 1,
    nextBatch: (g) => data.batch(4, 32, g),
    loss: (b) => crossEntropy(lm.forward(b.inputs).reshape([-1, tokenizer.vocabSize]), b.targets.reshape([-1])),
  });
  await trainer.fit({ steps: 30, progress: false });
  lm.eval();
  return lm;
}

/** The logits of every position of `ids` run as one prefill on a fresh engine. */
export function allLogits(model: PackedModel, ids: number[]): Float32Array {
  const e = new InferenceEngine(model);
  const l = e.forward(ids, { all: true });
  const a = l.toFloat32Array();
  l.dispose();
  e.dispose();
  return a;
}
