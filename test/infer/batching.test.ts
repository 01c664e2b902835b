// Continuous batching: concurrent generations share decode steps and each gets exactly the
// tokens it gets alone; limits on batch size, KV memory and the waiting queue hold; nothing is
// dropped, cancelled requests free their caches, disposal ends everything with an error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BitNetLM, GenerateOptions, GenerationResult, InferenceEngine, PackedModel, loadPackedModel, memoryStats, packModel } from "../../src";
import { tokenizer, trainedModel } from "./fixture";

let lm: BitNetLM;
let packed: PackedModel;

before(async () => {
  lm = await trainedModel();
  packed = packModel(lm, { headFormat: "int8" });
});

after(() => {
  packed.dispose();
  lm.dispose();
});

const PROMPTS = ["t", "the ", "the quick ", "fox ", "lazy dog. the ", "jumps over the ", "q", "brown fox jumps over "];

/** 32 requests of mixed prompt lengths, lengths, sampling and stops. */
function requests(): { prompt: string; opts: GenerateOptions }[] {
  return Array.from({ length: 32 }, (_, i) => ({
    prompt: PROMPTS[i % PROMPTS.length],
    opts: {
      maxTokens: 1 + ((i * 7) % 29),
      temperature: i % 3 === 0 ? 0 : 0.8,
      topK: i % 4 === 1 ? 5 : 0,
      seed: i,
      stop: i % 5 === 2 ? [" "] : undefined,
      stopTokens: i % 7 === 3 ? [tokenizer.encode("o")[0]] : undefined,
    },
  }));
}

test("32 concurrent generations of mixed lengths: all complete, each with exactly its solo tokens, in batches of at most maxBatch", async () => {
  const solo = new InferenceEngine(packed, { tokenizer, maxBatch: 1 });
  const alone: GenerationResult[] = [];
  for (const r of requests()) alone.push(await solo.generate(r.prompt, r.opts));
  assert.equal(solo.schedulerStats().completed, 32);
  solo.dispose();

  const engine = new InferenceEngine(packed, { tokenizer, maxBatch: 8 });
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, engine.schedulerStats().running)), 0);
  const together = await Promise.all(requests().map((r) => engine.generate(r.prompt, r.opts)));
  clearInterval(watch);
  together.forEach((r, i) => {
    assert.deepEqual(r.tokens, alone[i].tokens, `request ${i}: same tokens batched as alone`);
    assert.equal(r.text, alone[i].text);
    assert.equal(r.finishReason, alone[i].finishReason);
  });
  const s = engine.schedulerStats();
  assert.equal(s.completed, 32);
  assert.equal(s.running + s.waiting + s.cancelled + s.failed + s.rejected, 0);
  assert.equal(s.cacheBytesInUse, 0, "every cache released");
  assert.ok(most <= 8, `at most maxBatch running (saw ${most})`);
  assert.ok(s.stepRows / s.steps > 4, `steps carry several sequences (${(s.stepRows / s.steps).toFixed(2)} on average)`);
  assert.ok(s.steps < together.reduce((n, r) => n + r.tokens.length + 1, 0) / 4, "far fewer steps than tokens");
  const reasons = new Set(together.map((r) => r.finishReason));
  assert.ok(reasons.has("stop") && reasons.has("max_tokens"), `finish reasons: ${[...reasons].join(", ")}`);
  engine.dispose();
});

test("KV memory limit: requests wait for memory (never more running than fit); one that can never fit is rejected; a full queue rejects", async () => {
  const probe = new InferenceEngine(packed, { tokenizer });
  const perPosition = probe.maxCacheBytes / (probe.maxBatch * probe.maxLength);
  probe.dispose();
  // Room for two requests of 4 + 12 positions.
  const engine = new InferenceEngine(packed, { tokenizer, maxCacheBytes: 2 * 16 * perPosition, maxWaiting: 6 });
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, engine.schedulerStats().running)), 0);
  const runs = Array.from({ length: 6 }, (_, i) => engine.generate("the ", { maxTokens: 12, temperature: 0.7, seed: i }));
  await assert.rejects(engine.generate("the ", { maxTokens: 40 }), /InferenceEngine.stream: the request needs \d+ bytes of KV cache \(44 positions\) but maxCacheBytes is \d+; shorten the prompt or maxTokens, or raise maxCacheBytes/);
  await assert.rejects(engine.generate("the ", { maxTokens: 1 }), /InferenceEngine.stream: 6 requests are already waiting \(maxWaiting 6\); retry later/);
  const results = await Promise.all(runs);
  clearInterval(watch);
  assert.ok(results.every((r) => r.tokens.length === 12 && r.finishReason === "max_tokens"), "every waiting request ran to the end");
  assert.ok(most <= 2, `at most two caches fit (saw ${most} running)`);
  assert.equal(engine.schedulerStats().rejected, 2);
  assert.equal(engine.schedulerStats().cacheBytesInUse, 0);
  engine.dispose();
});

test("cancellation frees the cache at once; disposing the engine ends running and waiting requests with an error", async () => {
  const live = memoryStats().liveTensors;
  const engine = new InferenceEngine(packed, { tokenizer, maxBatch: 2 });
  const controller = new AbortController();
  const a = engine.generate("the ", { maxTokens: 30, signal: controller.signal });
  const it = engine.stream("the quick ", { maxTokens: 30 });
  await it.next();
  await it.return(undefined as never);
  controller.abort();
  const ra = await a;
  assert.equal(ra.finishReason, "cancelled");
  const b = engine.generate("fox ", { maxTokens: 30 });
  const c = engine.generate("fox ", { maxTokens: 30 });
  const d = engine.generate("fox ", { maxTokens: 30 });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  engine.dispose();
  for (const p of [b, c, d]) await assert.rejects(p, /InferenceEngine.stream: the engine was disposed/);
  await assert.rejects(engine.generate("the "), /InferenceEngine.stream: the engine was disposed/);
  assert.equal(memoryStats().liveTensors, live, "every KV cache freed");
});

test("chunked prefill: prompts longer than maxStepRows run in chunks (interleaved with other requests' decoding) with the same logits and tokens", async () => {
  const ids = Array.from(tokenizer.encode("the quick brown fox jumps over the lazy dog. the quick"));
  const whole = new InferenceEngine(packed, { tokenizer, maxStepRows: 64 });
  const chunked = new InferenceEngine(packed, { tokenizer, maxStepRows: 8, maxBatch: 4 });
  const a = whole.forward(ids, { all: true });
  const b = chunked.forward(ids, { all: true });
  assert.deepEqual(b.toFloat32Array(), a.toFloat32Array(), "forward() in chunks of 8 equals one chunk");
  a.dispose();
  b.dispose();
  const opts = { maxTokens: 12, temperature: 0.7, seed: 4 };
  const alone = await whole.generate(ids, opts);
  const [short, long] = await Promise.all([chunked.generate("the ", { maxTokens: 20, temperature: 0 }), chunked.generate(ids, opts)]);
  assert.deepEqual(long.tokens, alone.tokens, "same tokens when prefilled 8 rows a step beside a decoding request");
  assert.equal(short.tokens.length, 20);
  assert.ok(chunked.schedulerStats().steps >= Math.ceil(ids.length / 8), "the long prompt took several steps");
  assert.throws(() => new InferenceEngine(packed, { maxBatch: 8, maxStepRows: 4 }), /InferenceEngine: maxStepRows must be an integer >= maxBatch \(8\), received 4/);
  whole.dispose();
  chunked.dispose();
});

test("bad engine options and pack options are named errors", () => {
  assert.throws(() => new InferenceEngine(packed, { maxBatch: 0 }), /InferenceEngine: maxBatch must be an integer in \[1, 4096\], received 0/);
  assert.throws(() => new InferenceEngine(packed, { maxCacheBytes: -1 }), /InferenceEngine: maxCacheBytes must be a positive integer, received -1/);
  assert.throws(() => new InferenceEngine(packed, { maxCacheBytes: NaN }), /InferenceEngine: maxCacheBytes must be a positive integer, received NaN/);
  assert.throws(() => new InferenceEngine(packed, { maxWaiting: 1.5 }), /InferenceEngine: maxWaiting must be an integer >= 0, received 1.5/);
  assert.throws(() => new InferenceEngine(packed, null as never), /InferenceEngine: opts must be an object, received null/);
  assert.throws(() => packModel(lm, { headFormat: "int4" as "int8" }), /packModel: opts.headFormat must be one of 'f32', 'f16', 'bf16', 'int8', received 'int4'/);
  assert.throws(() => packModel(lm, { embeddingFormat: "fp8" as "f16" }), /packModel: opts.embeddingFormat must be one of/);
  assert.throws(() => loadPackedModel("/nonexistent.safetensors", { map: "yes" as never }), /loadPackedModel: opts.map must be a boolean, received 'yes'/);
});
