// `npm run bench -- infer`: the inference engine on a random-weight model of the BitNet b1.58
// 2B4T shape (hidden 2560, FFN 6912, 30 layers, 20 heads, 5 KV heads, vocab 128256, tied
// embeddings), written once to a temp file per head format and memory-mapped by a child process:
// pp128 and tg64 tokens/s at 1 and 2 threads, the child's peak RSS, the decode's GB/s against the
// read bandwidth measured in the same run, and throughput against batch size. bitnet.cpp's
// figures on this machine are in ../shared/anchors/bitnet-cpp.md.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { addon } from "../src/backend/addon";
import { backendInfo, getIsa, setIsa, Isa, DenseFormat, DenseWeights, denseWeightBytes, exportGGUF, loadGGUF, loadPackedModel, savePackedModel, Generator, InferenceEngine, PackedLayer, PackedModel, Tensor, measureReadBandwidth, packTernary, randn, resolveBitNetConfig, setNumThreads, getNumThreads, wrap, ones } from "../src";
import { isasFromOptions, printTable, Row, writeResults } from "./report";

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

/** Head formats measured: int8 first (the engine's fast configuration), then f16 (bitnet.cpp's). */
const HEAD_FORMATS: readonly DenseFormat[] = (process.env.BITNET_BENCH_HEADS ?? "int8,f16").split(",") as DenseFormat[];
const PROMPT = Array.from({ length: 128 }, (_, i) => (i * 7919) % CONFIG.vocab_size);

/** What the child process measures on one model file. */
interface ChildResult {
  rows: Row[];
  batching: Row[];
  maxRssBytes: number;
  modelBytes: number;
  cacheBytes: number;
}

/**
 * The measurement, in a fresh process so that its peak RSS is the engine's alone: the model file
 * memory-mapped (zero-copy), pp128 (median of 3) and tg64 at 1 and 2 threads, then the
 * batching table (B concurrent requests of 32 tokens each, total tokens/s) at 2 threads.
 */
/**
 * This process's peak resident set: VmHWM on Linux, which starts afresh at exec (getrusage's
 * maxrss keeps the forking parent's peak, here the whole model built in memory).
 */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Bytes a decode step reads: every ternary projection and the head. */
function decodeBytes(model: PackedModel): number {
  return model.layers.reduce((s, l) => s + [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].reduce((a, p) => a + (p ? p.data.nbytes : 0), 0), 0) + model.head.bytes;
}

/** The weight bytes a decode step reads (ternary projections and the head), where they live. */
function weightViews(model: PackedModel): Uint8Array[] {
  const views: Uint8Array[] = [];
  const bytesOf = (t: Tensor): Uint8Array => {
    const a = t.data() as ArrayBufferView;
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  };
  for (const l of model.layers) for (const p of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) if (p) views.push(bytesOf(p.data));
  views.push(bytesOf(model.head.data));
  return views;
}

/** Seconds of one streaming read (all threads) over `views`. */
function timeRead(views: Uint8Array[]): number {
  const t0 = performance.now();
  for (const v of views) addon().streamRead(v);
  return (performance.now() - t0) / 1000;
}

/**
 * Decode speed as a fraction of the read bandwidth of the same bytes, on a machine whose
 * bandwidth drifts within seconds: 64 pairs of (one read of exactly the weights a step reads, one
 * decode step through forward()), each pair's ratio taken, the median reported.
 */
function decodeRoofline(engine: InferenceEngine, model: PackedModel): { stepGBs: number; readGBs: number; ratio: number } {
  const views = weightViews(model);
  const bytes = views.reduce((s, v) => s + v.length, 0);
  engine.reset();
  engine.forward(PROMPT.slice(0, 8)).dispose();
  timeRead(views); // warm
  const step: number[] = [];
  const read: number[] = [];
  for (let i = 0; i < 64; i++) {
    read.push(timeRead(views));
    const t0 = performance.now();
    engine.forward([PROMPT[8 + (i % 64)]]).dispose();
    step.push((performance.now() - t0) / 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { stepGBs: bytes / median(step) / 1e9, readGBs: bytes / median(read) / 1e9, ratio: median(step.map((t, i) => read[i] / t)) };
}

export async function child(file: string, part: "speed" | "batching"): Promise<void> {
  const model = file.endsWith(".gguf") ? loadGGUF(file, { map: true }).model : loadPackedModel(file, { map: true });
  const rows: Row[] = [];
  let cacheBytes = 0;
  if (part === "batching") return childBatching(model);
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    const engine = new InferenceEngine(model, { maxLength: 256 });
    const pp: number[] = [];
    for (let r = 0; r < 3; r++) {
      engine.reset();
      const s = performance.now();
      engine.forward(PROMPT).dispose();
      pp.push((performance.now() - s) / 1000);
    }
    pp.sort((a, b) => a - b);
    // Decode: three generations (tokens/s with sampling and scheduling), then the roofline.
    const tg: number[] = [];
    for (let r = 0; r < 3; r++) {
      const running = engine.generate(PROMPT.slice(r, r + 8), { temperature: 0, maxTokens: 65 });
      // Both caches at once: forward()'s and the request's.
      await new Promise((res) => setImmediate(res));
      await new Promise((res) => setImmediate(res));
      cacheBytes = Math.max(cacheBytes, engine.cacheBytes);
      tg.push((await running).stats.decodeTokensPerSecond);
    }
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    const roof = decodeRoofline(engine, model);
    rows.push({
      threads,
      "pp128 tokens/s": 128 / pp[1],
      "tg64 tokens/s": mid(tg),
      "decode GB/s": (decodeBytes(model) * mid(tg)) / 1e9,
      "step GB/s": roof.stepGBs,
      "model read GB/s": roof.readGBs,
      "of read BW": roof.ratio,
    });
    engine.dispose();
  }
  const out: ChildResult = { rows, batching: [], maxRssBytes: peakRss(), modelBytes: model.bytes, cacheBytes };
  model.dispose();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function childBatching(model: PackedModel): Promise<void> {
  const batching: Row[] = [];
  setNumThreads(2);
  for (const batch of [1, 2, 4, 8, 16]) {
    const engine = new InferenceEngine(model, { maxLength: 64, maxBatch: batch });
    const s = performance.now();
    const results = await Promise.all(Array.from({ length: batch }, (_, i) => engine.generate(PROMPT.slice(i, i + 8), { temperature: 0, maxTokens: 32 })));
    const seconds = (performance.now() - s) / 1000;
    const tokens = results.reduce((n, r) => n + r.tokens.length, 0);
    const st = engine.schedulerStats();
    batching.push({ "batch (concurrent requests)": batch, "total tokens/s": tokens / seconds, "tokens/s per request": tokens / seconds / batch, "mean rows a step": st.stepRows / st.steps });
    engine.dispose();
  }
  const out: ChildResult = { rows: [], batching, maxRssBytes: 0, modelBytes: model.bytes, cacheBytes: 0 };
  model.dispose();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export async function run(opts: Record<string, string> = {}): Promise<void> {
  for (const isa of isasFromOptions(opts)) await runIsa(isa);
}

async function runIsa(isa: string): Promise<void> {
  const before = getNumThreads();
  const isaBefore = getIsa();
  setIsa(isa as Isa);
  const c = resolveBitNetConfig(CONFIG, "bench infer");
  const t0 = performance.now();
  const layers = buildLayers();
  const norm = ones([c.hidden_size]);
  console.log(`ternary layers built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ternaryBytes = layers.reduce((s, l) => s + [l.q, l.k, l.v, l.o, l.gate, l.up, l.down].reduce((a, p) => a + (p ? p.data.nbytes : 0), 0), 0);
  const rows: Row[] = [];
  const rss: Row[] = [];
  let batching: Row[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-bench-infer-"));
  try {
    for (const format of HEAD_FORMATS) {
      const head = randomDense(format, c.vocab_size, c.hidden_size, 2);
      const file = path.join(dir, `model-${format}.safetensors`);
      savePackedModel(file, new PackedModel(c, head, layers, norm, head));
      head.dispose();
      setNumThreads(2);
      const bandwidth2 = measureReadBandwidth();
      setNumThreads(1);
      const bandwidth1 = measureReadBandwidth();
      const inChild = (part: string, modelFile = file): ChildResult => {
        const proc = spawnSync(process.execPath, ["--single-threaded-gc", __filename, "--child", modelFile, part], {
          encoding: "utf8",
          maxBuffer: 1 << 24,
          env: { ...process.env, BITNET_ISA: isa },
        });
        if (proc.status !== 0) throw new Error(`bench infer child failed (${proc.status}): ${proc.stderr}`);
        return JSON.parse(proc.stdout.trim().split("\n").pop() as string) as ChildResult;
      };
      const res = inChild("speed");
      for (const r of res.rows) rows.push({ head: format, ...r, "256 MB buffer read GB/s": r.threads === 1 ? bandwidth1 : bandwidth2 });
      rss.push({ head: format, "weights GB": res.modelBytes / 1e9, "KV cache GB": res.cacheBytes / 1e9, "peak RSS GB": res.maxRssBytes / 1e9, "RSS / (weights + KV)": res.maxRssBytes / (res.modelBytes + res.cacheBytes) });
      if (format === HEAD_FORMATS[0]) batching = inChild("batching").batching;
      fs.rmSync(file, { force: true });
      if (format === "f16") {
        // The same model as bitnet.cpp reads it: GGUF, I2_S projections, F16 tied embedding.
        const gguf = path.join(dir, "model.gguf");
        const headF16 = randomDense("f16", c.vocab_size, c.hidden_size, 2);
        exportGGUF(new PackedModel(c, headF16, layers, norm, headF16), gguf);
        headF16.dispose();
        const g = inChild("speed", gguf);
        for (const r of g.rows) rows.push({ head: "f16 (GGUF)", ...r, "256 MB buffer read GB/s": r.threads === 1 ? bandwidth1 : bandwidth2 });
        rss.push({ head: "f16 (GGUF)", "weights GB": g.modelBytes / 1e9, "KV cache GB": g.cacheBytes / 1e9, "peak RSS GB": g.maxRssBytes / 1e9, "RSS / (weights + KV)": g.maxRssBytes / (g.modelBytes + g.cacheBytes) });
        fs.rmSync(gguf, { force: true });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const l of layers) for (const p of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) p?.dispose();
    setNumThreads(before);
    setIsa(isaBefore as Isa);
  }
  const cpu = backendInfo().cpu.model;
  printTable(`inference, ${isa} kernels on ${cpu}, random-weight 2B4T shape, model file memory-mapped (${(ternaryBytes / 1e9).toFixed(3)} GB ternary; tied head ${HEAD_FORMATS.map((f) => `${f} ${(denseWeightBytes(f, c.vocab_size, c.hidden_size) / 1e9).toFixed(3)} GB`).join(", ")})`, rows);
  printTable("peak RSS of the process running pp128 and tg64 (a child process; KV: forward()'s 256 positions and the request's, both allocated at the peak)", rss);
  printTable(`continuous batching, ${isa} kernels, ${HEAD_FORMATS[0]} head, 2 threads: B concurrent requests of 32 tokens`, batching);
  console.log(
    "bitnet.cpp v1.0, tokens/s at 1 / 2 threads (../shared/anchors): Zen 4, its AVX2 kernels: pp128 33.6 / 60.6, tg64 16.0 / 22.4; " +
      "Zen 3 (AVX2 only): pp128 22.2 / 34.8, tg64 7.1 / 11.2",
  );
  console.log(`results: ${writeResults(`infer-${isa}`, { isa, rows, rss, batching })}`);
}

if (require.main === module && process.argv[2] === "--child") {
  child(process.argv[3], process.argv[4] === "batching" ? "batching" : "speed").catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
