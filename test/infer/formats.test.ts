// Storage formats of a packed model and its cache, and what each costs in logits: the head in
// f16, bf16 and int8 per row against the f32 head, the KV cache in f16 against f32, measured on
// a trained model over every position of a text; save/load keeps each format exactly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BitNetLM, InferenceEngine, PackedModel, loadPackedModel, memoryStats, packModel, savePackedModel } from "../../src";
import { TEXT, tokenizer, trainedModel } from "./fixture";

let lm: BitNetLM;
let f32: PackedModel;
const ids = Array.from(tokenizer.encode(TEXT.slice(0, 48)));

before(async () => {
  lm = await trainedModel();
  f32 = packModel(lm);
});

after(() => {
  f32.dispose();
  lm.dispose();
});

/** Logits of every position, decoded token by token (the decode path: GEMV head, decode attention). */
function decodeLogits(model: PackedModel, kvCache: "f32" | "f16" = "f32"): Float32Array[] {
  const e = new InferenceEngine(model, { kvCache });
  const rows: Float32Array[] = [];
  for (const id of ids) {
    const l = e.forward([id]);
    rows.push(l.toFloat32Array());
    l.dispose();
  }
  e.dispose();
  return rows;
}

/** Largest |difference| over the logits' standard deviation, and the share of rows with the same argmax. */
function compare(a: Float32Array[], b: Float32Array[]): { maxRel: number; argmaxAgree: number } {
  let maxRel = 0, agree = 0;
  a.forEach((ra, i) => {
    const rb = b[i];
    const mean = ra.reduce((s, v) => s + v, 0) / ra.length;
    const std = Math.sqrt(ra.reduce((s, v) => s + (v - mean) ** 2, 0) / ra.length);
    let diff = 0;
    for (let j = 0; j < ra.length; j++) diff = Math.max(diff, Math.abs(ra[j] - rb[j]));
    maxRel = Math.max(maxRel, diff / std);
    const am = (r: Float32Array) => r.indexOf(Math.max(...r));
    if (am(ra) === am(rb)) agree++;
  });
  return { maxRel, argmaxAgree: agree / a.length };
}

test("head formats: f16, bf16 and int8 per row against the f32 head (measured over 48 positions of a trained model)", (t) => {
  const base = decodeLogits(f32);
  // The head alone (embeddings kept f32): the error is the format's own rounding at the output.
  const bounds = { f16: 2e-3, bf16: 2e-2, int8: 5e-2 };
  for (const format of ["f16", "bf16", "int8"] as const) {
    const headOnly = packModel(lm, { embeddingFormat: "f32", headFormat: format });
    assert.notEqual(headOnly.head, headOnly.embedding, "tied with two formats: stored twice");
    const r = compare(base, decodeLogits(headOnly));
    t.diagnostic(`${format} head (f32 embeddings): max |logit error| ${r.maxRel.toExponential(2)} of the logits' std, argmax agrees on ${(100 * r.argmaxAgree).toFixed(1)}% of positions`);
    assert.ok(r.maxRel < bounds[format], `${format}: ${r.maxRel}`);
    assert.ok(r.argmaxAgree >= 0.95, `${format}: argmax agreement ${r.argmaxAgree}`);
    headOnly.dispose();
    // Tied and stored once: the embeddings are rounded too, and a small change of the input moves
    // some int8 activation roundings by a step (1/127 of a row's absmax) through every layer.
    const tied = packModel(lm, { headFormat: format });
    assert.equal(tied.head, tied.embedding, "tied and one format: stored once");
    assert.equal(tied.embedding.format, format);
    const rt = compare(base, decodeLogits(tied));
    t.diagnostic(`${format} tied embeddings + head: max |logit error| ${rt.maxRel.toExponential(2)} of the logits' std, argmax agrees on ${(100 * rt.argmaxAgree).toFixed(1)}%`);
    assert.ok(rt.maxRel < 0.5, `${format} tied: ${rt.maxRel}`);
    assert.ok(rt.argmaxAgree >= 0.9, `${format} tied: argmax agreement ${rt.argmaxAgree}`);
    tied.dispose();
  }
});

test("f16 KV cache against f32: decode logits within f16 rounding", (t) => {
  const r = compare(decodeLogits(f32, "f32"), decodeLogits(f32, "f16"));
  t.diagnostic(`f16 KV cache: max |logit error| ${r.maxRel.toExponential(2)} of the logits' std, argmax agrees on ${(100 * r.argmaxAgree).toFixed(1)}%`);
  // Small changes move some int8 activation roundings by one step (1/127 of a row's absmax), so
  // the logits differ by more than f16's own rounding; the argmax barely moves.
  assert.ok(r.maxRel < 0.1, `${r.maxRel}`);
  assert.ok(r.argmaxAgree >= 0.95);
  const e = new InferenceEngine(f32, { kvCache: "f16", maxLength: 16 });
  assert.equal(e.cacheBytes, 0, "allocated on first use");
  e.forward([1, 2]).dispose();
  assert.equal(e.cacheBytes, 2 * 2 * 16 * 16 * 2, "2 layers x K and V x 16 positions x 16 values x 2 bytes");
  // A prefill continuing an f16 cache reads the earlier positions widened from it.
  const whole = new InferenceEngine(f32, { kvCache: "f16" });
  const a = whole.forward(ids.slice(0, 12)).toFloat32Array();
  e.forward(ids.slice(2, 8)).dispose();
  e.reset();
  e.forward(ids.slice(0, 5)).dispose();
  const b = e.forward(ids.slice(5, 12)).toFloat32Array();
  const c = compare([a], [b]);
  assert.ok(c.maxRel < 0.1, `prefill in two chunks: ${c.maxRel}`);
  assert.throws(() => new InferenceEngine(f32, { kvCache: "f8" as "f16" }), /InferenceEngine: kvCache must be 'f32' or 'f16', received 'f8'/);
  e.dispose();
  whole.dispose();
});

test("save and load (memory-mapped, zero-copy) keep every head format (int8 scales, a tied model stored twice) with identical logits", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-formats-"));
  try {
    for (const opts of [{ headFormat: "int8" as const }, { headFormat: "bf16" as const }, { embeddingFormat: "f16" as const, headFormat: "int8" as const }]) {
      const m = packModel(lm, opts);
      const file = path.join(dir, "m.safetensors");
      savePackedModel(file, m);
      const live = memoryStats().liveTensors;
      const back = loadPackedModel(file, { map: true });
      const mappedView = back.layers[0].q.data.data();
      assert.equal(back.head.format, m.head.format);
      assert.equal(back.embedding.format, m.embedding.format);
      assert.equal(back.head === back.embedding, m.head === m.embedding);
      assert.equal(back.bytes, m.bytes);
      assert.deepEqual(decodeLogits(back), decodeLogits(m));
      back.dispose();
      assert.equal(mappedView.length, 0, "disposing the model unmaps its file");
      assert.equal(memoryStats().liveTensors, live);
      m.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
