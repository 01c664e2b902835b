// `npm run bench -- infer`: the inference engine on a random-weight model of the BitNet b1.58
// 2B4T shape (hidden 2560, FFN 6912, 30 layers, 20 heads, 5 KV heads, vocab 128256, tied
// embeddings), built in memory: pp128 and tg64 tokens/s at 1 and 2 threads, peak RSS, and the
// decode's GB/s against the read bandwidth measured in the same run. bitnet.cpp's figures on this
// machine are in ../shared/anchors/bitnet-cpp.md.
import { DenseFormat, DenseWeights, denseWeightBytes, Generator, InferenceEngine, PackedLayer, PackedModel, Tensor, measureReadBandwidth, packTernary, randn, resolveBitNetConfig, setNumThreads, getNumThreads, wrap, ones } from "../src";
import { printTable, Row, writeResults } from "./report";

export const CONFIG = {
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

/** A random [rows, cols] matrix (N(0, 0.02)) stored in `format`, drawn in chunks so no f32 copy of the whole exists. */
export function randomDense(format: DenseFormat, rows: number, cols: number, seed: number): DenseWeights {
  const chunk = 8192;
  const parts: DenseWeights[] = [];
  for (let r = 0; r < rows; r += chunk) {
    const w = randn([Math.min(chunk, rows - r), cols], { seed: seed + r, std: 0.02 });
    parts.push(DenseWeights.from(w, format));
    w.dispose();
  }
  const data = Tensor.empty([rows, parts[0].data.shape[1]], parts[0].data.dtype);
  const scales = format === "int8" ? Tensor.empty([rows], "f32") : null;
  let at = 0;
  for (const p of parts) {
    const src = p.data.data() as ArrayBufferView;
    const dst = data.data() as ArrayBufferView;
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), (at * dst.byteLength) / rows);
    scales?.data().set((p.scales as Tensor<"f32">).data(), at);
    at += p.rows;
    p.dispose();
  }
  return new DenseWeights(format, rows, cols, data, scales);
}

export function buildLayers(): PackedLayer[] {
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
  return layers;
}

/** Head formats measured: int8 first (the engine's fast configuration, whose peak RSS is reported), then f16 (bitnet.cpp's). */
const HEAD_FORMATS: readonly DenseFormat[] = (process.env.BITNET_BENCH_HEADS ?? "int8,f16").split(",") as DenseFormat[];

export async function run(): Promise<void> {
  const before = getNumThreads();
  const c = resolveBitNetConfig(CONFIG, "bench infer");
  const t0 = performance.now();
  const layers = buildLayers();
  const norm = ones([c.hidden_size]);
  console.log(`ternary layers built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ternaryBytes = layers.reduce((s, l) => s + [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].reduce((a, p) => a + (p ? p.data.nbytes : 0), 0), 0);
  const rows: Row[] = [];
  const prompt = Array.from({ length: 128 }, (_, i) => (i * 7919) % CONFIG.vocab_size);
  let rssGB = 0;
  let firstModelBytes = 0;
  let firstCacheBytes = 0;
  for (const format of HEAD_FORMATS) {
    const head = randomDense(format, c.vocab_size, c.hidden_size, 2);
    const model = new PackedModel(c, head, layers, norm, head);
    const headBytes = head.bytes;
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
      const decodeGBps = ((ternaryBytes + headBytes) * tg) / 1e9;
      rows.push({
        head: format,
        threads,
        "pp128 tokens/s": 128 / pp[1],
        "tg64 tokens/s": tg,
        "decode GB/s (weights + head)": decodeGBps,
        "read GB/s": bandwidth,
        "of read BW": decodeGBps / bandwidth,
      });
      if (!firstCacheBytes) firstCacheBytes = engine.cacheBytes;
      engine.dispose();
    }
    if (!rssGB) {
      rssGB = process.resourceUsage().maxRSS / 1e6;
      firstModelBytes = model.bytes;
    }
    head.dispose();
  }
  setNumThreads(before);
  printTable(`inference, random-weight 2B4T shape (${(ternaryBytes / 1e9).toFixed(3)} GB ternary; tied head ${HEAD_FORMATS.map((f) => `${f} ${(denseWeightBytes(f, c.vocab_size, c.hidden_size) / 1e9).toFixed(3)} GB`).join(", ")})`, rows);
  console.log(`peak RSS with the ${HEAD_FORMATS[0]} head: ${rssGB.toFixed(2)} GB for ${(firstModelBytes / 1e9).toFixed(2)} GB of weights + ${(firstCacheBytes / 1e9).toFixed(3)} GB KV cache (${(rssGB / ((firstModelBytes + firstCacheBytes) / 1e9)).toFixed(2)}x; the process itself, V8 and the addon, is ~0.1 GB)`);
  console.log("targets (bitnet.cpp on this machine: pp128 33.6 / 60.6, tg64 16.0 / 22.4 at 1 / 2 threads): pp128 >= 120 and tg64 >= 29 at 2 threads, decode >= 90% of read bandwidth, RSS <= 1.1x weights + KV");
  console.log(`results: ${writeResults("infer", { rows, rssGB, modelBytes: firstModelBytes, cacheBytes: firstCacheBytes })}`);
  for (const l of layers) for (const p of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) p?.dispose();
}
