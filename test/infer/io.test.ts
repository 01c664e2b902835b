// Packed-model files: a save/load round trip gives the same logits; a file of another kind, a
// missing or reshaped tensor, an extra tensor, a bad scale, a truncated file: each a named error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BitNetLM, PackedModel, loadPackedModel, packModel, savePackedModel, readSafetensors, writeSafetensors, memoryStats, Tensor, zeros } from "../../src";
import { allLogits } from "./fixture";

let dir: string;
let lm: BitNetLM;
let packed: PackedModel;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-packed-"));
  lm = new BitNetLM({ hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 40, max_position_embeddings: 32, tie_word_embeddings: false }, { seed: 9 });
  packed = packModel(lm);
});
after(() => {
  packed.dispose();
  lm.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const logits = allLogits;

test("save then load gives a model with identical logits (untied head, SubLN, gated)", () => {
  const file = path.join(dir, "m.safetensors");
  savePackedModel(file, packed);
  const live = memoryStats().liveTensors;
  const back = loadPackedModel(file);
  assert.deepEqual(back.config, packed.config);
  assert.equal(back.bytes, packed.bytes);
  const ids = [1, 5, 9, 2, 33, 17];
  assert.deepEqual(logits(back, ids), logits(packed, ids));
  back.dispose();
  assert.equal(memoryStats().liveTensors, live, "dispose frees every tensor");
});

test("bad files: another format, missing/reshaped/extra tensors, a bad scale, a truncated file", () => {
  const file = path.join(dir, "good.safetensors");
  savePackedModel(file, packed);
  const { tensors, metadata } = readSafetensors(file);
  const variant = (name: string, edit: (t: Map<string, Tensor>, m: Record<string, string>) => void): string => {
    const t = new Map(tensors);
    const m = { ...metadata };
    edit(t, m);
    const f = path.join(dir, `${name}.safetensors`);
    writeSafetensors(f, t, m);
    return f;
  };
  const other = variant("other", (_, m) => (m.format = "something-else"));
  assert.throws(() => loadPackedModel(other), /loadPackedModel: '.*other\.safetensors' is not a bitnet-lab packed model \(metadata format 'something-else', expected 'bitnet-lab\.packed'\)/);
  const missing = variant("missing", (t) => t.delete("model.layers.1.mlp.down_proj.weight"));
  assert.throws(() => loadPackedModel(missing), /'.*missing\.safetensors' has no tensor 'model\.layers\.1\.mlp\.down_proj\.weight'/);
  const reshaped = variant("reshaped", (t) => t.set("model.norm.weight", zeros([31])));
  assert.throws(() => loadPackedModel(reshaped), /tensor 'model\.norm\.weight' is F32 \[31\], expected f32 \[32\]/);
  const extra = variant("extra", (t) => t.set("model.layers.9.mlp.up_proj.weight", zeros([4])));
  assert.throws(() => loadPackedModel(extra), /has an unexpected tensor 'model\.layers\.9\.mlp\.up_proj\.weight' for its config/);
  const badScale = variant("scale", (t) => t.set("model.layers.0.self_attn.q_proj.weight_scale", zeros([1])));
  assert.throws(() => loadPackedModel(badScale), /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight_scale' must be a finite positive scale, received 0/);
  const corrupt = variant("corrupt", (t) => {
    const bytes = t.get("model.layers.1.self_attn.k_proj.weight")!.clone();
    bytes.data()[0] = 0xff; // four codes of 3
    t.set("model.layers.1.self_attn.k_proj.weight", bytes);
  });
  assert.throws(() => loadPackedModel(corrupt), /tensor 'model\.layers\.1\.self_attn\.k_proj\.weight' holds an invalid ternary code/);
  const badConfig = variant("config", (_, m) => (m.config = JSON.stringify({ hidden_size: -1 })));
  assert.throws(() => loadPackedModel(badConfig), /'.*config\.safetensors' has no valid config/);
  const truncated = path.join(dir, "truncated.safetensors");
  fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 200));
  assert.throws(() => loadPackedModel(truncated), /truncated\.safetensors/);
  assert.throws(() => loadPackedModel(path.join(dir, "absent.safetensors")), /absent\.safetensors/);
  for (const t of tensors.values()) t.dispose();
});
