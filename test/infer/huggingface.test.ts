// Hugging Face BitNet checkpoints written here in the exact HF layout from lab models: the packed
// variant loads to a model with logits identical to the lab model packed the same way (both
// weight_scale directions, and the magnitude rule checked against the -bf16 weights' mean|W|),
// one projection's bytes are checked against hand-packed golden bytes, the -bf16 variant loads as
// a trainable BitNetLM with the source's forward, shards and the tokenizer load, and every class
// of bad file is a named error.
import { test, before, after, mock } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  AdamW, BitNetLM, HFFormatError, InferenceEngine, PackedModel, Tensor, Trainer, bitNetConfigFromHF, crossEntropy, fromArray,
  loadHFBitNet, loadHFBitNetLM, memoryStats, packModel, packTernary, quantizeWeightsTernary, readSafetensors, tidy, unpackTernary, writeSafetensors,
} from "../../src";
import { bf16BitsToNumber, numberToBf16Bits } from "../../src/tensor/half";
import { llama3TokenizerJSON } from "./hf-fixture";

const LAB = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 300, max_position_embeddings: 64, rope_theta: 500000 };
const PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
const bf16 = (x: number): number => bf16BitsToNumber(numberToBf16Bits(x));

let root: string;
let lm: BitNetLM; // tied, every parameter a bf16 value (as a checkpoint holds it)
let untied: BitNetLM;

/** Rounds every parameter to bf16 in place, as a checkpoint stores it. */
function roundToBf16(m: BitNetLM): BitNetLM {
  for (const [, p] of m.namedParameters()) {
    const d = p.data();
    for (let i = 0; i < d.length; i++) d[i] = bf16(d[i]);
  }
  return m;
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-hf-"));
  lm = roundToBf16(new BitNetLM({ ...LAB, tie_word_embeddings: true }, { seed: 4 }));
  untied = roundToBf16(new BitNetLM({ ...LAB, tie_word_embeddings: false }, { seed: 5 }));
});
after(() => {
  lm.dispose();
  untied.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

function hfConfig(m: BitNetLM, linearClass: string | null = "autobitlinear", extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = m.config;
  return {
    architectures: ["BitNetForCausalLM"], model_type: "bitnet", attention_bias: false, attention_dropout: 0, bos_token_id: 280, eos_token_id: 281,
    hidden_act: "relu2", hidden_size: c.hidden_size, initializer_range: 0.02, intermediate_size: c.intermediate_size,
    max_position_embeddings: c.max_position_embeddings, num_attention_heads: c.num_attention_heads, num_hidden_layers: c.num_hidden_layers,
    num_key_value_heads: c.num_key_value_heads, rms_norm_eps: c.rms_norm_eps, rope_theta: c.rope_theta, tie_word_embeddings: c.tie_word_embeddings,
    torch_dtype: "bfloat16", use_cache: true, vocab_size: c.vocab_size,
    quantization_config: linearClass === null ? { quant_method: "bitnet" } : { quant_method: "bitnet", linear_class: linearClass, quantization_mode: "offline" },
    ...extra,
  };
}

const scalar = (v: number): Tensor => tidy(() => fromArray([v]).to("bf16"));

/** The tensors of a packed HF checkpoint of `m`: uint8 [out/4, in] codes + bf16 weight_scale, bf16 rest. */
function packedTensors(m: BitNetLM, scaleOf: (name: string, meanAbsW: number) => number): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, p] of m.namedParameters()) {
    if (PROJECTIONS.some((s) => name.endsWith(`${s}.weight`))) {
      const tw = quantizeWeightsTernary(p);
      const packed = packTernary(tw.codes, { layout: "hf" });
      tensors.set(name, tidy(() => packed.data.reshape([p.shape[0] / 4, p.shape[1]]).clone()));
      tensors.set(`${name}_scale`, scalar(scaleOf(name, tw.scales.data()[0])));
      packed.dispose();
      tw.dispose();
    } else {
      tensors.set(name, tidy(() => p.detach().to("bf16")));
    }
  }
  return tensors;
}

function writeDir(name: string, config: Record<string, unknown>, tensors: Map<string, Tensor>, opts: { tokenizer?: unknown } = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
  writeSafetensors(path.join(dir, "model.safetensors"), tensors, { format: "pt" });
  if (opts.tokenizer) fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(opts.tokenizer));
  return dir;
}

function packedDir(name: string, m: BitNetLM, linearClass: string | null, scaleOf = (_: string, s: number) => s, extra: Record<string, unknown> = {}): string {
  const tensors = packedTensors(m, scaleOf);
  try {
    return writeDir(name, hfConfig(m, linearClass, extra), tensors);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function bf16Dir(name: string, m: BitNetLM): string {
  const tensors = new Map<string, Tensor>(m.namedParameters().map(([n, p]) => [n, tidy(() => p.detach().to("bf16"))]));
  try {
    return writeDir(name, hfConfig(m), tensors);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** packModel of `m` (bf16 head) with each projection's scale set to what the checkpoint's weight_scale gives. */
function labPacked(m: BitNetLM, scaleOf: (name: string, meanAbsW: number) => number): PackedModel {
  const packed = packModel(m, { headFormat: "bf16" });
  packed.layers.forEach((l, i) => {
    [l.q, l.k, l.v, l.o, l.gate!, l.up, l.down].forEach((p, j) => {
      const name = `model.layers.${i}.${PROJECTIONS[j]}.weight`;
      p.scale.data()[0] = scaleOf(name, p.scale.data()[0]);
    });
  });
  return packed;
}

function logits(model: PackedModel, ids: number[]): Float32Array {
  const e = new InferenceEngine(model);
  try {
    const l = e.forward(ids, { all: true });
    const a = l.toFloat32Array();
    l.dispose();
    return a;
  } finally {
    e.dispose();
  }
}

const IDS = [1, 17, 250, 3, 99, 42, 7, 280];

test("config.json maps onto the lab config: BitNet sizes, HF defaults, linear 'bitnet' with SubLN and gated FFN", () => {
  const c = bitNetConfigFromHF(hfConfig(lm));
  assert.deepEqual({ ...c }, { ...lm.config });
  // The 2B4T config (formats.md) and transformers' defaults for fields left out.
  const twoB = bitNetConfigFromHF({
    architectures: ["BitNetForCausalLM"], model_type: "bitnet", hidden_size: 2560, intermediate_size: 6912, num_hidden_layers: 30, num_attention_heads: 20,
    num_key_value_heads: 5, vocab_size: 128256, max_position_embeddings: 4096, rope_theta: 500000, rms_norm_eps: 1e-5, hidden_act: "relu2",
    tie_word_embeddings: true, torch_dtype: "bfloat16", quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "offline" },
  });
  assert.equal(twoB.hidden_size / twoB.num_attention_heads, 128);
  assert.equal(twoB.linear, "bitnet");
  assert.equal(twoB.sub_norm, true);
  assert.equal(twoB.gated, true);
  const minimal = bitNetConfigFromHF({ model_type: "bitnet", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 10 });
  assert.deepEqual([minimal.rope_theta, minimal.tie_word_embeddings, minimal.num_key_value_heads, minimal.hidden_act, minimal.max_position_embeddings], [500000, false, 4, "relu2", 2048]);
  // Older spellings of the architecture and the quantization values.
  const older = { ...hfConfig(lm), architectures: ["BitnetForCausalLM"], quantization_config: { quant_method: "BitNet", linear_class: "AutoBitLinear", quantization_mode: "Offline" } };
  assert.deepEqual({ ...bitNetConfigFromHF(older) }, { ...lm.config });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ model_type: "llama" }, /field 'model_type' is 'llama', expected 'bitnet'/],
    [{ architectures: ["LlamaForCausalLM"] }, /field 'architectures' is \["LlamaForCausalLM"\]/],
    [{ head_dim: 16 }, /field 'head_dim' is 16; bitnet-lab needs hidden_size \/ num_attention_heads = 8/],
    [{ rope_scaling: { type: "linear", factor: 2 } }, /field 'rope_scaling' is \{"type":"linear","factor":2\}; bitnet-lab has plain RoPE only/],
    [{ hidden_act: "gelu" }, /field 'hidden_act' is 'gelu'/],
    [{ attention_bias: true }, /field 'attention_bias' is true; BitNet projections have no bias/],
    [{ hidden_size: 0 }, /field 'hidden_size' is 0, expected a positive integer/],
    [{ num_key_value_heads: 3 }, /num_attention_heads must be a multiple of config\.num_key_value_heads/],
    [{ quantization_config: { quant_method: "gptq" } }, /field 'quantization_config\.quant_method' is 'gptq', expected 'bitnet'/],
    [{ quantization_config: { quant_method: "bitnet", linear_class: "fp8linear" } }, /field 'quantization_config\.linear_class' is 'fp8linear'/],
    [{ quantization_config: { quant_method: "bitnet", use_rms_norm: true } }, /quantization_config\.use_rms_norm' is true/],
    [{ quantization_config: { quant_method: "bitnet", modules_to_not_convert: ["lm_head", "model.layers.0.mlp"] } }, /modules_to_not_convert' is \["lm_head","model\.layers\.0\.mlp"\]/],
    [{ hidden_size: 36, num_attention_heads: 2, intermediate_size: 66 }, /intermediate_size is 66; packed projections hold 4 output rows a byte/],
  ];
  for (const [extra, message] of bad) {
    assert.throws(() => bitNetConfigFromHF({ ...hfConfig(lm), ...extra }, "some/config.json"), (e: Error) => e instanceof HFFormatError && e.message.startsWith("some/config.json: ") && message.test(e.message), String(message));
  }
  assert.throws(() => bitNetConfigFromHF([1, 2]), /config\.json: must be a JSON object/);
});

test("golden bytes: an [8, 4] projection packed by hand from the formats.md rule, written and read back", () => {
  // w[k*R + r, c] at bits 2k of byte [r, c], R = 8 / 4 = 2, code = w + 1.
  const W = [
    [1, 0, -1, 1], [0, 0, 1, -1], [-1, 1, 0, 0], [1, 1, 1, 1],
    [0, -1, 0, 1], [-1, -1, -1, -1], [1, 0, 0, -1], [0, 1, -1, 0],
  ];
  // Byte [0, 0] holds rows 0, 2, 4, 6 of column 0: w = 1, -1, 0, 1 -> codes 2, 0, 1, 2 -> 2 | 0<<2 | 1<<4 | 2<<6 = 0x92.
  const golden = [0x92, 0x49, 0x54, 0x26, 0x49, 0x89, 0x0a, 0x48];
  const codes = fromArray(W).to("i8");
  const packed = packTernary(codes, { layout: "hf" });
  assert.deepEqual(Array.from(packed.data.data()), golden);
  packed.dispose();
  codes.dispose();

  // A whole checkpoint written byte by byte around it: hidden 4, one head, intermediate 8, so
  // gate_proj is [8, 4]; every other projection holds 0x55 bytes (all codes 1: zeros).
  const tiny = { model_type: "bitnet", hidden_size: 4, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 1, vocab_size: 8, tie_word_embeddings: true, quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear" } };
  const u8 = (rows: number, cols: number, bytes?: number[]): Tensor => {
    const t = Tensor.empty([rows, cols], "u8");
    t.data().set(bytes ?? new Array(rows * cols).fill(0x55));
    return t;
  };
  const tensors = new Map<string, Tensor>([
    ["model.embed_tokens.weight", tidy(() => fromArray(Array.from({ length: 8 }, (_, i) => [i, -i, 0.5, 1])).to("bf16"))],
    ["model.norm.weight", tidy(() => fromArray([1, 1, 1, 1]).to("bf16"))],
    ["model.layers.0.input_layernorm.weight", tidy(() => fromArray([1, 1, 1, 1]).to("bf16"))],
    ["model.layers.0.post_attention_layernorm.weight", tidy(() => fromArray([1, 1, 1, 1]).to("bf16"))],
    ["model.layers.0.self_attn.attn_sub_norm.weight", tidy(() => fromArray([1, 1, 1, 1]).to("bf16"))],
    ["model.layers.0.mlp.ffn_sub_norm.weight", tidy(() => fromArray([1, 1, 1, 1, 1, 1, 1, 1]).to("bf16"))],
  ]);
  for (const p of ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"]) tensors.set(`model.layers.0.${p}.weight`, u8(1, 4));
  tensors.set("model.layers.0.mlp.gate_proj.weight", u8(2, 4, golden));
  tensors.set("model.layers.0.mlp.up_proj.weight", u8(2, 4));
  tensors.set("model.layers.0.mlp.down_proj.weight", u8(1, 8));
  for (const p of PROJECTIONS) tensors.set(`model.layers.0.${p}.weight_scale`, scalar(0.25));
  const dir = writeDir("golden", tiny, tensors);
  for (const t of tensors.values()) t.dispose();
  const { model } = loadHFBitNet(dir);
  const gate = model.layers[0].gate!;
  assert.equal(gate.layout, "tl256", "repacked to the kernels' layout at load");
  assert.deepEqual(gate.shape, [8, 4]);
  const back = unpackTernary(gate);
  assert.deepEqual(Array.from(back.data()), W.flat());
  back.dispose();
  assert.equal(gate.scale.data()[0], 0.25);
  model.dispose();
});

test("HF packed layout -> lab model: identical logits (autobitlinear, tied bf16 head used as read; untied f32 head)", () => {
  const live = memoryStats().liveTensors;
  const autoScale = (_: string, s: number) => bf16(s);
  const dir = packedDir("packed-auto", lm, "autobitlinear");
  const { model, config, tokenizer } = loadHFBitNet(dir);
  assert.equal(tokenizer, undefined);
  assert.deepEqual({ ...config }, { ...lm.config });
  assert.equal(model.head, model.embedding, "a tied head is the embedding object");
  assert.equal(model.embedding.format, "bf16");
  assert.equal(model.layers[0].q.layout, "tl256");
  // The loaded codes are the lab quantizer's codes.
  const tw = quantizeWeightsTernary(lm.model.layers.at(1).mlp.down_proj.weight);
  const codes = unpackTernary(model.layers[1].down);
  assert.deepEqual(codes.data(), tw.codes.data());
  assert.equal(model.layers[1].down.scale.data()[0], bf16(tw.scales.data()[0]));
  codes.dispose();
  tw.dispose();
  const ref = labPacked(lm, autoScale);
  assert.deepEqual(logits(model, IDS), logits(ref, IDS));
  // Memory-mapped (as files of 64 MiB and more are by default): the bf16 embedding is a view of
  // the mapping, unmapped with the model; the repacked projections' pages are given back.
  const mapped = loadHFBitNet(dir, { map: true }).model;
  const view = mapped.embedding.data.data();
  assert.deepEqual(logits(mapped, IDS), logits(ref, IDS));
  mapped.dispose();
  assert.equal(view.length, 0, "disposing the model unmaps the file");
  assert.throws(() => loadHFBitNet(dir, { map: "yes" as never }), /loadHFBitNet: opts.map must be a boolean, received 'yes'/);
  ref.dispose();
  model.dispose();

  const dirUntied = packedDir("packed-untied", untied, "autobitlinear");
  const u = loadHFBitNet(dirUntied, { headFormat: "f32" });
  assert.notEqual(u.model.head, u.model.embedding);
  assert.deepEqual([u.model.head.format, u.model.embedding.format], ["f32", "f32"]);
  const refU = packModel(untied, { headFormat: "f32", embeddingFormat: "f32" });
  refU.layers.forEach((l, i) => [l.q, l.k, l.v, l.o, l.gate!, l.up, l.down].forEach((p) => (p.scale.data()[0] = bf16(p.scale.data()[0]))));
  assert.deepEqual(logits(u.model, IDS), logits(refU, IDS));
  refU.dispose();
  u.model.dispose();
  assert.equal(memoryStats().liveTensors, live, "dispose frees every tensor");
});

test("weight_scale directions: 'bitlinear' divides; without linear_class the magnitude decides, checked against the -bf16 weights' mean|W|", () => {
  // bitlinear: the file holds 1 / mean|W|.
  const inverse = (_: string, s: number) => 1 / s;
  const dir = packedDir("packed-bitlinear", lm, "bitlinear", inverse);
  const { model } = loadHFBitNet(dir);
  const ref = labPacked(lm, (_, s) => Math.fround(1 / bf16(1 / s)));
  assert.deepEqual(logits(model, IDS), logits(ref, IDS));
  ref.dispose();
  model.dispose();

  // The matching -bf16 checkpoint: mean|W| of its weights is what the scales must come out as.
  const masters = readSafetensors(path.join(bf16Dir("masters", lm), "model.safetensors")).tensors;
  const masterMean = (name: string): number => {
    const w = masters.get(name)!.to("f32");
    const d = w.data();
    let s = 0;
    for (const v of d) s += Math.abs(v);
    const mean = s / d.length;
    w.dispose();
    return mean;
  };
  for (const [label, scaleOf, said] of [["multiplying", (_: string, s: number) => s, /every weight_scale is at most 1, read as mean\|W\| \(multiplying/], ["dividing", inverse, /every weight_scale is above 1, read as 1 \/ mean\|W\| \(dividing/]] as const) {
    const d = packedDir(`packed-no-class-${label}`, lm, null, scaleOf);
    const warn = mock.method(console, "warn", () => {});
    let loaded;
    try {
      loaded = loadHFBitNet(d);
    } finally {
      warn.mock.restore();
    }
    assert.equal(warn.mock.callCount(), 1, "the decision is logged once per model");
    assert.match(String(warn.mock.calls[0].arguments[0]), said);
    loaded.model.layers.forEach((l, i) => [l.q, l.k, l.v, l.o, l.gate!, l.up, l.down].forEach((p, j) => {
      const name = `model.layers.${i}.${PROJECTIONS[j]}.weight`;
      const want = masterMean(name);
      const got = p.scale.data()[0];
      // bf16 storage of the scale (and of the weights) leaves at most ~1% between the two.
      assert.ok(Math.abs(got - want) / want < 0.01, `${name}: scale ${got}, mean|W| ${want}`);
    }));
    loaded.model.dispose();
  }
  for (const t of masters.values()) t.dispose();

  // Scales on both sides of 1 without linear_class: the direction is unknowable.
  const mixed = packedDir("packed-mixed", lm, null, (name, s) => (name.includes("q_proj") ? 1 / s : s));
  assert.throws(() => loadHFBitNet(mixed), (e: Error) => e instanceof HFFormatError && /no quantization_config\.linear_class and the weight_scale values lie on both sides of 1/.test(e.message));
});

test("-bf16 master weights: loadHFBitNetLM gives a trainable BitNetLM with the source's forward; loadHFBitNet packs it", async () => {
  const dir = bf16Dir("bf16", lm);
  const back = loadHFBitNetLM(dir);
  assert.deepEqual({ ...back.config }, { ...lm.config });
  assert.equal(back.training, true);
  const ids = fromArray([IDS], { dtype: "i32" });
  const a = tidy(() => lm.forward(ids).toFloat32Array());
  const b = tidy(() => back.forward(ids).toFloat32Array());
  assert.deepEqual(b, a);

  const before = back.model.layers.at(0).self_attn.q_proj.weight.toFloat32Array();
  const targets = fromArray([IDS.slice(1).concat([0])], { dtype: "i32" });
  const trainer = new Trainer({
    model: back, optimizer: new AdamW(back.parameters(), { lr: 1e-3 }), seed: 1,
    nextBatch: () => ({ inputs: ids.clone(), targets: targets.clone() }),
    loss: (batch: { inputs: Tensor<"i32">; targets: Tensor<"i32"> }) => crossEntropy(back.forward(batch.inputs).reshape([-1, LAB.vocab_size]), batch.targets.reshape([-1])),
  });
  const r = await trainer.fit({ steps: 1, progress: false });
  assert.equal(r.step, 1);
  assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  assert.notDeepEqual(back.model.layers.at(0).self_attn.q_proj.weight.toFloat32Array(), before, "the step changed the weights");
  back.dispose();

  const { model } = loadHFBitNet(dir);
  const ref = packModel(lm, { headFormat: "bf16" });
  assert.deepEqual(logits(model, IDS), logits(ref, IDS));
  ref.dispose();
  model.dispose();
  ids.dispose();
  targets.dispose();
  assert.throws(() => loadHFBitNetLM(packedDir("packed-for-lm", lm, "autobitlinear")), (e: Error) => e instanceof HFFormatError && /holds packed ternary projections .* needs the -bf16 master weights/.test(e.message));
});

test("sharded checkpoints (model.safetensors.index.json) load with identical logits; a shard path leaving the directory is refused", () => {
  const tensors = packedTensors(lm, (_, s) => s);
  const dir = path.join(root, "sharded");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(hfConfig(lm)));
  const names = [...tensors.keys()];
  const shards = [names.filter((n) => !n.includes("layers.1")), names.filter((n) => n.includes("layers.1"))];
  const weightMap: Record<string, string> = {};
  shards.forEach((list, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(path.join(dir, file), new Map(list.map((n) => [n, tensors.get(n)!])));
    for (const n of list) weightMap[n] = file;
  });
  for (const t of tensors.values()) t.dispose();
  fs.writeFileSync(path.join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  const { model } = loadHFBitNet(dir);
  const ref = labPacked(lm, (_, s) => bf16(s));
  assert.deepEqual(logits(model, IDS), logits(ref, IDS));
  ref.dispose();
  model.dispose();

  const index = path.join(dir, "model.safetensors.index.json");
  fs.writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, "model.norm.weight": "../elsewhere.safetensors" } }));
  assert.throws(() => loadHFBitNet(dir), /weight_map\['model\.norm\.weight'\] is '\.\.\/elsewhere\.safetensors', expected the name of a \.safetensors file in/);
  const { "model.norm.weight": _dropped, ...withoutNorm } = weightMap;
  fs.writeFileSync(index, JSON.stringify({ weight_map: withoutNorm }));
  assert.throws(() => loadHFBitNet(dir), /model-00001-of-00002\.safetensors' holds tensor 'model\.norm\.weight', which '.*index\.json' does not map to it/);
});

test("tokenizer.json in the directory: loaded with the model and driving generation from text", async () => {
  const tensors = packedTensors(lm, (_, s) => s);
  const dir = writeDir("with-tokenizer", hfConfig(lm), tensors, { tokenizer: llama3TokenizerJSON() });
  for (const t of tensors.values()) t.dispose();
  const { model, tokenizer } = loadHFBitNet(dir);
  assert.ok(tokenizer);
  assert.equal(tokenizer.bosId, 280);
  const engine = new InferenceEngine(model, { tokenizer });
  const r = await engine.generate("the hello", { temperature: 0, maxTokens: 5 });
  assert.equal(r.tokens.length, 5);
  assert.equal(r.text, tokenizer.decode(r.tokens));
  engine.dispose();
  model.dispose();
  // A tokenizer with more ids than the model's vocabulary.
  const small = { ...hfConfig(lm), vocab_size: 200 };
  const t2 = packedTensors(roundToBf16(new BitNetLM({ ...LAB, vocab_size: 200 }, { seed: 1 })), (_, s) => s);
  const dir2 = writeDir("tokenizer-too-big", small, t2, { tokenizer: llama3TokenizerJSON() });
  for (const t of t2.values()) t.dispose();
  assert.throws(() => loadHFBitNet(dir2), /tokenizer\.json' has 283 ids, more than config\.json's vocab_size 200/);
});

test("bad checkpoints: missing, extra, reshaped or mistyped tensors, bad scales, invalid codes, truncated files", () => {
  const good = packedTensors(lm, (_, s) => s);
  let n = 0;
  const variant = (edit: (t: Map<string, Tensor>) => void, config = hfConfig(lm)): string => {
    const t = new Map(good);
    edit(t);
    return writeDir(`bad-${n++}`, config, t);
  };
  const fails = (dir: string, message: RegExp): void => {
    assert.throws(() => loadHFBitNet(dir), (e: Error) => e instanceof HFFormatError && message.test(e.message), String(message));
  };
  fails(variant((t) => t.delete("model.layers.1.mlp.down_proj.weight_scale")), /loadHFBitNet: '.*' has no tensor 'model\.layers\.1\.mlp\.down_proj\.weight_scale' \(config\.json asks for it, packed checkpoint\)/);
  fails(variant((t) => t.set("model.layers.2.mlp.up_proj.weight", Tensor.empty([4], "u8", true))), /model\.safetensors' has an unexpected tensor 'model\.layers\.2\.mlp\.up_proj\.weight'/);
  fails(variant((t) => t.set("lm_head.weight", scalar(1))), /unexpected tensor 'lm_head\.weight'/);
  fails(variant((t) => t.set("model.layers.0.self_attn.k_proj.weight", Tensor.empty([16, 32], "u8", true))), /tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' is U8 \[16, 32\], expected U8 \[4, 32\]/);
  fails(variant((t) => t.set("model.norm.weight", Tensor.empty([32], "i8", true))), /tensor 'model\.norm\.weight' is I8 \[32\], expected BF16 or F16 or F32 \[32\]/);
  fails(variant((t) => t.set("model.layers.0.self_attn.q_proj.weight_scale", scalar(0).reshape([1, 1]))), /weight_scale' is BF16 \[1, 1\], expected BF16 or F16 or F32 \[1\] or \[\]/);
  for (const [v, shown] of [[0, "0"], [NaN, "NaN"], [-0.02, "-0.02"], [Infinity, "Infinity"]] as const) {
    fails(variant((t) => t.set("model.layers.1.self_attn.o_proj.weight_scale", scalar(v))), new RegExp(`tensor 'model\\.layers\\.1\\.self_attn\\.o_proj\\.weight_scale' is ${shown.replace(".", "\\.")}[0-9]*, expected a finite positive scale`));
  }
  fails(variant((t) => {
    const w = t.get("model.layers.1.self_attn.v_proj.weight")!.clone();
    w.data()[32 * 3 + 5] = 0b00110001; // byte [3, 5]: bits 4-5 hold 3, i.e. weight [2 * 4 + 3, 5] = [11, 5]
    t.set("model.layers.1.self_attn.v_proj.weight", w);
  }), /tensor 'model\.layers\.1\.self_attn\.v_proj\.weight' byte \[3, 5\] bits 4-5 \(weight \[11, 5\]\) holds the code 3, expected 0, 1 or 2/);
  // A packed checkpoint whose config says the latent weights are quantized online.
  fails(variant(() => {}, { ...hfConfig(lm), quantization_config: { quant_method: "bitnet", linear_class: "autobitlinear", quantization_mode: "online" } }), /says quantization_mode 'online'.*holds packed uint8 projections/);
  // A config asking for a billion layers fails at the first layer the file lacks, at once.
  fails(variant(() => {}, { ...hfConfig(lm), num_hidden_layers: 1_000_000_000 }), /has no tensor 'model\.layers\.2\.input_layernorm\.weight'/);
  // A projection in bf16 inside a packed checkpoint.
  fails(variant((t) => t.set("model.layers.1.mlp.up_proj.weight", Tensor.empty([64, 32], "bf16", true))), /up_proj\.weight' is BF16 \[64, 32\], expected U8 \[16, 32\]/);

  const whole = variant(() => {});
  const truncated = variant(() => {});
  const bytes = fs.readFileSync(path.join(whole, "model.safetensors"));
  fs.writeFileSync(path.join(truncated, "model.safetensors"), bytes.subarray(0, bytes.length - 100));
  fails(truncated, /loadHFBitNet: readSafetensorsHeader: '.*model\.safetensors': .*(truncated|holds only)/);
  fs.rmSync(path.join(truncated, "model.safetensors"));
  fails(truncated, /holds neither model\.safetensors nor model\.safetensors\.index\.json/);
  fs.writeFileSync(path.join(truncated, "config.json"), "{ nope");
  fails(truncated, /config\.json' is not UTF-8 JSON/);
  assert.throws(() => loadHFBitNet(path.join(root, "absent")), /loadHFBitNet: cannot read '.*absent\/config\.json'/);
  assert.throws(() => loadHFBitNet(whole, { headFormat: "f64" as never }), /opts\.headFormat must be one of/);
  for (const t of good.values()) t.dispose();
});
