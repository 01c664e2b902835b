// The model cache: least recently used models are evicted (and disposed) to keep the byte
// budget; hits, misses and evictions are counted; a changed file is loaded again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BitNetLM, ModelCache, PackedModel, exportGGUF, packModel, savePackedModel } from "../../src";
import { trainedModel } from "./fixture";

let lm: BitNetLM;
let dir: string;
const files: Record<string, string> = {};
let size = 0;

before(async () => {
  lm = await trainedModel();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-cache-"));
  for (const name of ["a", "b", "c"]) {
    const m = packModel(lm, { headFormat: "f16" });
    size = m.bytes;
    files[name] = path.join(dir, `${name}.safetensors`);
    savePackedModel(files[name], m);
    m.dispose();
  }
});

after(() => {
  lm.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("LRU within the byte budget: hits, misses, evictions of the least recently used (disposed), reload of a changed file", () => {
  const cache = new ModelCache({ maxBytes: 2 * size + 1 });
  const a = cache.load(files.a);
  const b = cache.load(files.b);
  assert.equal(cache.load(files.a), a, "a hit returns the same model");
  const c = cache.load(files.c);
  assert.ok(b.disposed, "b was least recently used: evicted and disposed");
  assert.ok(!a.disposed && !c.disposed);
  assert.deepEqual(cache.keys(), [path.resolve(files.a), path.resolve(files.c)]);
  assert.deepEqual(cache.stats, { hits: 1, misses: 3, evictions: 1, models: 2, bytes: 2 * size, maxBytes: 2 * size + 1 });
  // A changed file (new size or time) is a miss; the old model is disposed.
  const m = packModel(lm, { headFormat: "int8" });
  savePackedModel(files.a, m);
  m.dispose();
  const a2 = cache.load(files.a);
  assert.notEqual(a2, a);
  assert.ok(a.disposed);
  assert.equal(a2.head.format, "int8");
  assert.equal(cache.stats.misses, 4);
  // The int8 head of this tiny model (rows padded to 256) is larger than the f16 one: c goes too.
  assert.ok(a2.bytes > size);
  assert.deepEqual(cache.keys(), [path.resolve(files.a)]);
  assert.ok(c.disposed);
  assert.equal(cache.stats.evictions, 2);
  // Custom keys and loaders; a model over the whole budget is refused and disposed.
  let made: PackedModel | null = null;
  const small = new ModelCache({ maxBytes: size - 1 });
  assert.throws(() => small.get("big", () => (made = packModel(lm, { headFormat: "f16" }))), new RegExp(`ModelCache.get: 'big' takes ${size} bytes, more than the cache's maxBytes ${size - 1}`));
  assert.ok((made as unknown as PackedModel).disposed);
  assert.equal(cache.delete(path.resolve(files.c)), false);
  cache.clear();
  assert.ok(a2.disposed);
  assert.equal(cache.stats.bytes, 0);
  // GGUF files go through loadGGUF.
  const gguf = path.join(dir, "m.gguf");
  // I2_S needs rows of whole 128-weight blocks.
  const wide = new BitNetLM({ hidden_size: 128, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 40 }, { seed: 1 });
  const big = packModel(wide, { headFormat: "f16" });
  exportGGUF(big, gguf);
  big.dispose();
  wide.dispose();
  const ggufCache = new ModelCache({ maxBytes: 1e7 });
  const g = ggufCache.load(gguf);
  assert.equal(g.embedding.format, "f16");
  assert.equal(ggufCache.load(gguf), g);
  ggufCache.clear();
  assert.ok(g.disposed);
  assert.throws(() => new ModelCache({ maxBytes: 0 }), /ModelCache: maxBytes must be a positive integer, received 0/);
  assert.throws(() => cache.load(path.join(dir, "missing.safetensors")), /ModelCache.load: cannot read '.*missing.safetensors'/);
  assert.throws(() => cache.get("x", () => ({}) as PackedModel), /load\(\) must return a PackedModel/);
});
