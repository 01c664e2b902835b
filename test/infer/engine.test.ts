// The inference engine on a trained lab model: packed prefill logits equal the training graph's
// eval forward bit for bit; decoding token by token through the KV cache matches it within the
// attention kernels' rounding; sampling (greedy, temperature, top-k, top-p, repetition penalty)
// is seeded and deterministic; stop strings, stop tokens, max tokens, cancellation, interrupts;
// and every class of bad input is a named error.
import { test, before, after } from "node:test";
import { tokenizer, trainedModel } from "./fixture";
import assert from "node:assert/strict";
import { BitNetLM, InferenceEngine, PackedModel, interruptRunning, memoryStats, noGrad, packModel, Generator, wrap } from "../../src";
import { sampleToken, resolveSampling } from "../../src/infer";

let lm: BitNetLM;
let packed: PackedModel;

before(async () => {
  lm = await trainedModel();
  packed = packModel(lm);
});

after(() => {
  packed.dispose();
  lm.dispose();
});

function reference(ids: number[]): Float32Array {
  return noGrad(() => {
    const out = lm.forward(wrap(Int32Array.from(ids), { shape: [1, ids.length], dtype: "i32" }));
    const a = out.toFloat32Array();
    out.dispose();
    return a;
  });
}

test("prefill logits equal BitNetLM.forward (eval, noGrad) bit for bit at every position", () => {
  const ids = Array.from(tokenizer.encode("the quick brown fox jumps"));
  const engine = new InferenceEngine(packed);
  const got = engine.forward(ids, { all: true });
  assert.deepEqual(got.shape, [ids.length, tokenizer.vocabSize]);
  assert.deepEqual(got.toFloat32Array(), reference(ids));
  got.dispose();
  engine.dispose();
});

test("decoding token by token through the KV cache matches the full forward within 1e-5 relative", () => {
  const ids = Array.from(tokenizer.encode("the lazy dog jumps over the fox"));
  const ref = reference(ids);
  const V = tokenizer.vocabSize;
  const engine = new InferenceEngine(packed, { maxLength: 40 });
  const prefix = 7;
  const first = engine.forward(ids.slice(0, prefix));
  const rows: Float32Array[] = [first.toFloat32Array()];
  first.dispose();
  for (let t = prefix; t < ids.length; t++) {
    const l = engine.forward([ids[t]]);
    rows.push(l.toFloat32Array());
    l.dispose();
  }
  assert.equal(engine.length, ids.length);
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  rows.forEach((row, r) => {
    const t = prefix - 1 + r;
    for (let j = 0; j < V; j++) assert.ok(Math.abs(row[j] - ref[t * V + j]) <= 1e-5 * scale, `position ${t}, token ${j}: ${row[j]} vs ${ref[t * V + j]}`);
  });
  engine.dispose();
});

test("generate: greedy follows the argmax; seeded sampling repeats; top-k 1 is greedy; stop strings, stop tokens and maxTokens end it", async () => {
  const engine = new InferenceEngine(packed, { tokenizer });
  const greedy = await engine.generate("the quick ", { temperature: 0, maxTokens: 12 });
  assert.equal(greedy.tokens.length, 12);
  assert.equal(greedy.finishReason, "max_tokens");
  // The greedy continuation, checked against argmax of the reference forward at each step.
  const ids = Array.from(tokenizer.encode("the quick "));
  for (const t of greedy.tokens) {
    const ref = reference(ids);
    const V = tokenizer.vocabSize;
    const last = ref.subarray((ids.length - 1) * V);
    let best = 0;
    for (let j = 1; j < V; j++) if (last[j] > last[best]) best = j;
    assert.equal(t, best);
    ids.push(t);
  }
  assert.equal(greedy.text, tokenizer.decode(greedy.tokens));
  assert.ok(greedy.stats.prefillTokensPerSecond > 0 && greedy.stats.timeToFirstTokenMs >= 0);

  const a = await engine.generate("the ", { temperature: 0.9, topP: 0.9, seed: 5, maxTokens: 16 });
  const b = await engine.generate("the ", { temperature: 0.9, topP: 0.9, seed: 5, maxTokens: 16 });
  assert.deepEqual(a.tokens, b.tokens, "same seed, same tokens");
  const k1 = await engine.generate("the quick ", { temperature: 1.3, topK: 1, seed: 9, maxTokens: 12 });
  assert.deepEqual(k1.tokens, greedy.tokens, "top-k 1 is greedy");

  const cut = greedy.text.slice(3, 5);
  const stopped = await engine.generate("the quick ", { temperature: 0, maxTokens: 12, stop: [cut] });
  assert.equal(stopped.finishReason, "stop");
  assert.equal(stopped.text, greedy.text.slice(0, greedy.text.indexOf(cut)));
  const byToken = await engine.generate("the quick ", { temperature: 0, maxTokens: 12, stopTokens: [greedy.tokens[2]] });
  assert.deepEqual(byToken.tokens, greedy.tokens.slice(0, greedy.tokens.indexOf(greedy.tokens[2])));
  assert.equal(byToken.finishReason, "stop");
  engine.dispose();
});

test("stream: tokens arrive one by one; leaving the loop, an abort signal or an interrupt ends it; the cache end is reported", async () => {
  const engine = new InferenceEngine(packed, { tokenizer, maxLength: 20 });
  const seen: string[] = [];
  for await (const t of engine.stream("the ", { temperature: 0, maxTokens: 50 })) {
    seen.push(t.text);
    if (seen.length === 3) break;
  }
  assert.equal(seen.length, 3);
  const controller = new AbortController();
  const it = engine.stream("the ", { temperature: 0, maxTokens: 50, signal: controller.signal });
  await it.next();
  controller.abort();
  let r = await it.next();
  while (!r.done) r = await it.next();
  assert.equal(r.value.finishReason, "cancelled");
  const long = await engine.generate("the ", { temperature: 0, maxTokens: 50 });
  assert.equal(long.finishReason, "length", "20 positions: the prompt's 4 and 16 generated");
  assert.equal(long.tokens.length, 17);
  const running = engine.generate("the ", { temperature: 0, maxTokens: 15 });
  setImmediate(() => interruptRunning());
  await assert.rejects(running, /InferenceEngine.stream: interrupted after \d+ tokens/);
  engine.dispose();
});

test("sampling rules: repetition penalty, top-p keeps the nucleus, bad options are named errors", () => {
  const g = new Generator(1);
  const logits = Float32Array.of(2, 1.9, -5, 0);
  const s = resolveSampling("t", { temperature: 0, repetitionPenalty: 2 });
  assert.equal(sampleToken(logits, s, g, [0]), 1, "the penalised 0 (2 -> 1) falls below 1.9");
  const nucleus = resolveSampling("t", { temperature: 1, topP: 0.5, seed: 0 });
  for (let i = 0; i < 50; i++) assert.equal(sampleToken(Float32Array.of(5, 0, 0, 0), nucleus, g, []), 0);
  assert.throws(() => resolveSampling("f", { temperature: -1 }), /^RangeError: f: temperature must be a finite number >= 0, received -1$/);
  assert.throws(() => resolveSampling("f", { topP: 0 }), /f: topP must be a number in \(0, 1\], received 0/);
  assert.throws(() => resolveSampling("f", { topK: 1.5 }), /f: topK must be an integer >= 0, received 1.5/);
});

test("bad input: prompts too long or empty, ids out of range, a text prompt without tokenizer, an fp32 model, disposed objects; nothing leaks", async () => {
  const live = memoryStats().liveTensors;
  const engine = new InferenceEngine(packed, { maxLength: 8 });
  await assert.rejects(engine.generate(Array(9).fill(1)), /InferenceEngine.stream: the prompt has 9 tokens, more than maxLength 8/);
  await assert.rejects(engine.generate([]), /the prompt is empty/);
  await assert.rejects(engine.generate("text"), /a text prompt needs a tokenizer/);
  await assert.rejects(engine.generate([1], { maxTokens: -1 }), /maxTokens must be an integer >= 0, received -1/);
  await assert.rejects(engine.generate([1], { stopTokens: [-1] }), /InferenceEngine.stream: stopTokens\[0\] must be a token id in \[0, \d+\), received -1/);
  await assert.rejects(engine.generate([1], { stopTokens: [2, 1e9] }), /stopTokens\[1\] must be a token id in \[0, \d+\), received 1000000000/);
  await assert.rejects(engine.generate([1], { signal: 5 as unknown as AbortSignal }), /InferenceEngine.stream: signal must be an AbortSignal, received 5/);
  assert.throws(() => engine.forward([tokenizer.vocabSize]), new RegExp(`ids\\[0\\] must be a token id in \\[0, ${tokenizer.vocabSize}\\), received ${tokenizer.vocabSize}`));
  assert.throws(() => engine.forward([1.5]), /ids\[0\] must be a token id/);
  engine.forward([1, 2, 3, 4, 5]).dispose();
  assert.throws(() => engine.forward([1, 2, 3, 4]), /4 more tokens do not fit: the cache holds 5 of 8 positions/);
  assert.throws(() => new InferenceEngine(packed, { maxLength: 65 }), /maxLength must be an integer in \[1, 64\]/);
  engine.dispose();
  assert.throws(() => engine.forward([1]), /the engine was disposed/);
  const fp32 = new BitNetLM({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 5, linear: "fp32" });
  assert.throws(() => packModel(fp32), /packModel: model.layers.0.self_attn.q_proj is not a BitLinear/);
  fp32.dispose();
  assert.throws(() => packModel({} as BitNetLM), /packModel: lm must be a BitNetLM/);
  assert.equal(memoryStats().liveTensors, live, "the engine's cache and temporaries are freed");
});

test("sampling draws equal a full-sort reference for every filter (leading-set selection over a 5000-token vocabulary; native weights within 1 ulp of Math.exp)", () => {
  // The reference sorts the whole vocabulary; totals are summed in the same order as the engine's.
  function reference(logits: Float32Array, s: ReturnType<typeof resolveSampling>, u: number): number {
    const v = logits.length;
    const z = logits;
    const max = Math.max(...z);
    // The weights as the native kernel computes them: one float32 subtraction and product, expf.
    const wf = Float32Array.from(z, (x) => Math.fround(Math.fround(x - max) * Math.fround(1 / s.temperature)));
    const w = (i: number) => Math.fround(Math.exp(wf[i]));
    if ((s.topK === 0 || s.topK >= v) && s.topP >= 1) {
      let total = 0;
      for (let i = 0; i < v; i++) total += w(i);
      let r = u * total;
      for (let i = 0; i < v; i++) if ((r -= w(i)) <= 0) return i;
      return v - 1;
    }
    let order = Array.from({ length: v }, (_, i) => i).sort((a, b) => z[b] - z[a] || a - b);
    let total = 0;
    if (s.topK > 0 && s.topK < v) {
      order = order.slice(0, s.topK);
      for (const i of order) total += w(i);
    } else for (let i = 0; i < v; i++) total += w(i);
    if (s.topP < 1) {
      let acc = 0, keep = 0;
      while (keep < order.length && acc < s.topP * total) acc += w(order[keep++]);
      order = order.slice(0, Math.max(1, keep));
      total = 0;
      for (const i of order) total += w(i);
    }
    let r = u * total;
    for (const i of order) if ((r -= w(i)) <= 0) return i;
    return order[order.length - 1];
  }
  const g = new Generator(11);
  const logits = new Float32Array(5000);
  for (const opts of [{ temperature: 0.7 }, { temperature: 1, topK: 40 }, { temperature: 0.9, topP: 0.9 }, { temperature: 1.2, topK: 300, topP: 0.5 }, { temperature: 0.5, topK: 1 }, { temperature: 2, topP: 0.999 }]) {
    const s = resolveSampling("t", { ...opts, seed: 3 });
    for (let trial = 0; trial < 40; trial++) {
      g.normal(logits, 0, 3);
      logits[trial] = logits[trial + 1]; // ties
      const draw = new Generator(trial);
      const u = new Float32Array(1);
      new Generator(trial).uniform(u);
      assert.equal(sampleToken(logits, s, draw, []), reference(logits, s, u[0]), `${JSON.stringify(opts)} trial ${trial}`);
    }
  }
});
