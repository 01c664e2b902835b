// `npm run bench -- infer`: the inference engine on a random-weight model of the BitNet b1.58
// 2B4T shape (hidden 2560, FFN 6912, 30 layers, 20 heads, 5 KV heads, vocab 128256, tied
// embeddings), built in memory: pp128 and tg64 tokens/s at 1 and 2 threads, peak RSS, and the
// decode's GB/s against the read bandwidth measured in the same run. bitnet.cpp's figures on this
// machine are in ../shared/anchors/bitnet-cpp.md.
import { Generator, InferenceEngine, PackedLayer, PackedModel, Tensor, measureReadBandwidth, packTernary, randn, resolveBitNetConfig, setNumThreads, getNumThreads, wrap, ones } from "../src";
import { printTable, Row, writeResults } from "./report";

const CONFIG = {
  hidden_size: 2560, intermediate_size: 6912, num_hidden_layers: 30, num_attention_heads: 20, num_key_value_heads: 5,
  vocab_size: 128256, max_position_embeddings: 4096, tie_word_embeddings: true,
};

// Random codes are drawn once per shape and packed into a separate copy for every layer: the
// seeded generator takes ~25 ns a value, and 2 billion of them would take a minute. Each layer
// still reads its own memory.
const codeCache = new Map<string, Tensor<"i8">>();
function randomPacked(n: number, k: number, g: Generator) {
  const key = `${n}x${k}`;
  let codes = codeCache.get(key);
  if (!codes) {
    const bits = new Uint32Array(n * k);
    g.nextUint32(bits);
    const codes8 = new Int8Array(n * k);
    for (let i = 0; i < codes8.length; i++) codes8[i] = (bits[i] % 3) - 1;
    codes = wrap(codes8, { shape: [n, k], dtype: "i8" });
    codeCache.set(key, codes);
  }
  return packTernary(codes, { layout: "tl256", scale: wrap(Float32Array.of(0.02), { shape: [1] }) });
}

function buildModel(): PackedModel {
  const c = resolveBitNetConfig(CONFIG, "bench infer");
  const g = new Generator(1);
  const d = c.hidden_size, f = c.intermediate_size, kv = (c.num_key_value_heads * d) / c.num_attention_heads;
  const layers: PackedLayer[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    layers.push({
      inputNorm: ones([d]), postAttentionNorm: ones([d]), attnSubNorm: ones([d]), ffnSubNorm: ones([f]),
      q: randomPacked(d, d, g), k: randomPacked(kv, d, g), v: randomPacked(kv, d, g), o: randomPacked(d, d, g),
      gate: randomPacked(f, d, g), up: randomPacked(f, d, g), down: randomPacked(d, f, g),
    });
  }
  for (const t of codeCache.values()) t.dispose();
  codeCache.clear();
  const embedding = randn([c.vocab_size, d], { seed: 2, std: 0.02 });
  return new PackedModel(c, embedding, layers, ones([d]), embedding);
}

export async function run(): Promise<void> {
  const before = getNumThreads();
  const t0 = performance.now();
  const model = buildModel();
  console.log(`model built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(model.bytes / 1e9).toFixed(2)} GB (packed ternary + f32 embeddings/head)`);
  const ternaryBytes = model.layers.reduce((s, l) => s + [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].reduce((a, p) => a + (p ? p.data.nbytes : 0), 0), 0);
  const headBytes = model.head.nbytes;
  const rows: Row[] = [];
  const prompt = Array.from({ length: 128 }, (_, i) => (i * 7919) % CONFIG.vocab_size);
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    const bandwidth = measureReadBandwidth();
    const engine = new InferenceEngine(model, { maxLength: 256 });
    // pp128: one prefill of 128 tokens (median of 3); tg64: 64 greedy decode steps after a short prompt.
    const pp: number[] = [];
    for (let r = 0; r < 3; r++) {
      engine.reset();
      const s = performance.now();
      engine.forward(prompt).dispose();
      pp.push((performance.now() - s) / 1000);
    }
    pp.sort((a, b) => a - b);
    const result = await engine.generate(prompt.slice(0, 8), { temperature: 0, maxTokens: 65 });
    const tg = result.stats.decodeTokensPerSecond;
    const perToken = 1 / tg;
    const decodeGBps = (ternaryBytes + headBytes) / perToken / 1e9;
    rows.push({
      threads,
      "pp128 tokens/s": 128 / pp[1],
      "tg64 tokens/s": tg,
      "decode GB/s (weights + head)": decodeGBps,
      "read GB/s": bandwidth,
      "of read BW": decodeGBps / bandwidth,
      "KV cache MB": engine.cacheBytes / 1e6,
    });
    engine.dispose();
  }
  const rssGB = process.resourceUsage().maxRSS / 1e6;
  setNumThreads(before);
  printTable(`inference, random-weight 2B4T shape (${(ternaryBytes / 1e9).toFixed(2)} GB ternary, ${(headBytes / 1e9).toFixed(2)} GB f32 tied head)`, rows);
  console.log(`peak RSS ${rssGB.toFixed(2)} GB for ${(model.bytes / 1e9).toFixed(2)} GB of weights`);
  console.log("targets (bitnet.cpp on this machine: pp128 33.6 / 60.6, tg64 16.0 / 22.4 at 1 / 2 threads): pp128 >= 120 and tg64 >= 29 at 2 threads, decode >= 90% of read bandwidth, RSS <= 1.1x weights + KV");
  console.log(`results: ${writeResults("infer", { rows, rssGB, modelBytes: model.bytes })}`);
  model.dispose();
}
