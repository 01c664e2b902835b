// GGUF models: a packed lab model exported for bitnet.cpp (every key, tensor, type and shape, the
// I2_S bytes against the native packer, the tokenizer as byte-level BPE) and loaded back with
// identical logits; TQ2_0, float-ternary and per-row-scale projections load with identical logits;
// every class of bad file and of model bitnet.cpp cannot run is a named error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Tokenizer as HFTokenizer } from "@huggingface/tokenizers";
import { BitNetLM, BitNetConfig, CharTokenizer, ByteTokenizer, DenseWeights, GGUFFile, GGUFFormatError, PackedLayer, PackedModel, PackedTernary, Tensor, exportGGUF, loadGGUF, memoryStats, packModel, packTernary, unpackTernary, writeGGUF } from "../../src";
import { ggufTokenizerToJSON } from "../../src/infer";
import { GGUFTensorInput, GGUFValue, encodeBF16, encodeF16, encodeF32, encodeI2S, encodeTQ2_0, parseGGUF } from "../../src/io";
import { f16BitsToNumber, numberToF16Bits } from "../../src/tensor/half";
import { TEXT, allLogits, tokenizer } from "./fixture";

// Every projection's rows are whole I2_S blocks (k % 128 == 0); down_proj's rows are two TQ2_0
// blocks (k = 512), so a row can hold two block scales.
const BASE: BitNetConfig = { hidden_size: 128, intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: tokenizer.vocabSize, max_position_embeddings: 32 };
const IDS = Array.from(tokenizer.encode("the lazy dog. the quick"));

let dir: string;
let lm: BitNetLM;
let packed: PackedModel;
let count = 0;
const fresh = (): string => path.join(dir, `m${count++}.gguf`);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-gguf-model-"));
  lm = new BitNetLM(BASE, { seed: 5 });
  packed = packModel(lm);
});
after(() => {
  packed.dispose();
  lm.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const logits = (model: PackedModel, ids: number[] = IDS): Float32Array => allLogits(model, ids);

const f16 = (x: number): number => f16BitsToNumber(numberToF16Bits(x));
const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const value = (g: GGUFFile, key: string): unknown => {
  const v = g.metadata.get(key);
  assert.ok(v, `key ${key} present`);
  return v.type === "array" ? Array.from(v.value as ArrayLike<unknown>) : v.value;
};
const parse = (file: string): GGUFFile => parseGGUF(new Uint8Array(fs.readFileSync(file)), file);
const scaleOf = (p: PackedTernary): number => p.scale.data()[0];

/** The same model with each projection's codes and a new scale (a number, or one per row). */
function rescaled(src: PackedModel, scale: (p: PackedTernary, layer: number, key: string) => number | Float32Array): PackedModel {
  const copy = (t: Tensor<"f32"> | null): Tensor<"f32"> | null => (t ? (t.clone() as Tensor<"f32">) : null);
  const layers: PackedLayer[] = src.layers.map((l, i) => {
    const proj = (key: "q" | "k" | "v" | "o" | "gate" | "up" | "down"): PackedTernary => {
      const p = l[key] as PackedTernary;
      const codes = unpackTernary(p);
      const s = scale(p, i, key);
      const st = typeof s === "number" ? s : Tensor.wrap(s, [s.length], "f32");
      try {
        return packTernary(codes, { scale: st });
      } finally {
        codes.dispose();
        if (typeof st !== "number") st.dispose();
      }
    };
    return {
      inputNorm: copy(l.inputNorm)!, postAttentionNorm: copy(l.postAttentionNorm)!, attnSubNorm: copy(l.attnSubNorm), ffnSubNorm: copy(l.ffnSubNorm),
      q: proj("q"), k: proj("k"), v: proj("v"), o: proj("o"), gate: proj("gate"), up: proj("up"), down: proj("down"),
    };
  });
  const embedding = DenseWeights.from(src.embedding.data, src.embedding.format);
  return new PackedModel(src.config, embedding, layers, copy(src.norm)!, embedding);
}

/** Writes the tensors and metadata of `g` with some tensors replaced, dropped or added. */
function rewrite(g: GGUFFile, edit: { replace?: Record<string, GGUFTensorInput | null>; add?: GGUFTensorInput[]; metadata?: Record<string, GGUFValue | null> }): string {
  const tensors: GGUFTensorInput[] = [];
  for (const t of g.tensors) {
    const r = edit.replace?.[t.name];
    if (r === null) continue;
    tensors.push(r ?? { name: t.name, type: t.typeName, shape: t.shape, data: t.data });
  }
  tensors.push(...(edit.add ?? []));
  const metadata = new Map(g.metadata);
  for (const [k, v] of Object.entries(edit.metadata ?? {})) {
    if (v === null) metadata.delete(k);
    else metadata.set(k, v);
  }
  const file = fresh();
  writeGGUF(file, { metadata, tensors });
  return file;
}

/** Codes of a projection as float32 values times `s`. */
function codeValues(p: PackedTernary, s: number | ((row: number) => number)): Float32Array {
  const codes = unpackTernary(p);
  const c = codes.data();
  const k = p.shape[1];
  const out = new Float32Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i] * (typeof s === "number" ? s : s(Math.floor(i / k)));
  codes.dispose();
  return out;
}

test("export: bitnet-b1.58 keys, tensor names/types/shapes, I2_S bytes from the native packer, tokens", () => {
  const file = fresh();
  const eos = tokenizer.encode(".")[0];
  exportGGUF(packed, file, { tokenizer, name: "tiny", eosTokenId: eos });
  const g = parse(file);
  const A = "bitnet-b1.58";
  assert.deepEqual([...g.metadata.keys()], [
    "general.architecture", "general.name", "general.file_type", "general.alignment",
    `${A}.vocab_size`, `${A}.context_length`, `${A}.embedding_length`, `${A}.block_count`, `${A}.feed_forward_length`,
    `${A}.attention.head_count`, `${A}.attention.head_count_kv`, `${A}.rope.dimension_count`, `${A}.rope.freq_base`, `${A}.attention.layer_norm_rms_epsilon`,
    "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
    "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token",
  ]);
  assert.deepEqual(g.metadata.get("general.architecture"), { type: "string", value: A });
  assert.deepEqual(g.metadata.get("general.name"), { type: "string", value: "tiny" });
  assert.deepEqual(g.metadata.get("general.file_type"), { type: "u32", value: 40 });
  assert.deepEqual(g.metadata.get("general.alignment"), { type: "u32", value: 32 });
  const u32s: [string, number][] = [["vocab_size", tokenizer.vocabSize], ["context_length", 32], ["embedding_length", 128], ["block_count", 2], ["feed_forward_length", 512], ["attention.head_count", 4], ["attention.head_count_kv", 2], ["rope.dimension_count", 32]];
  for (const [k, v] of u32s) assert.deepEqual(g.metadata.get(`${A}.${k}`), { type: "u32", value: v }, k);
  assert.deepEqual(g.metadata.get(`${A}.rope.freq_base`), { type: "f32", value: 10000 });
  assert.deepEqual(g.metadata.get(`${A}.attention.layer_norm_rms_epsilon`), { type: "f32", value: Math.fround(1e-5) });
  // The fixture's characters are ASCII: each token is its byte through GPT-2's map, which
  // keeps printable ASCII and sends the space (0x20) to U+0120 'Ġ'.
  assert.equal(value(g, "tokenizer.ggml.model"), "gpt2");
  assert.equal(value(g, "tokenizer.ggml.pre"), "default");
  assert.deepEqual(value(g, "tokenizer.ggml.tokens"), tokenizer.vocabulary.map((c) => (c === " " ? "\u0120" : c)));
  assert.deepEqual(value(g, "tokenizer.ggml.token_type"), new Array(tokenizer.vocabSize).fill(1));
  const tokenType = g.metadata.get("tokenizer.ggml.token_type");
  assert.equal(tokenType?.type === "array" ? tokenType.elementType : undefined, "i32");
  assert.deepEqual(value(g, "tokenizer.ggml.merges"), []);
  assert.deepEqual(g.metadata.get("tokenizer.ggml.eos_token_id"), { type: "u32", value: eos });
  assert.deepEqual(g.metadata.get("tokenizer.ggml.add_bos_token"), { type: "bool", value: false });

  const V = tokenizer.vocabSize;
  const expected: [string, string, number[]][] = [["token_embd.weight", "F32", [V, 128]], ["output_norm.weight", "F32", [128]]];
  for (let i = 0; i < 2; i++) {
    expected.push(
      [`blk.${i}.attn_norm.weight`, "F32", [128]], [`blk.${i}.attn_q.weight`, "I2_S", [128, 128]], [`blk.${i}.attn_k.weight`, "I2_S", [64, 128]],
      [`blk.${i}.attn_v.weight`, "I2_S", [64, 128]], [`blk.${i}.attn_sub_norm.weight`, "F32", [128]], [`blk.${i}.attn_output.weight`, "I2_S", [128, 128]],
      [`blk.${i}.ffn_norm.weight`, "F32", [128]], [`blk.${i}.ffn_gate.weight`, "I2_S", [512, 128]], [`blk.${i}.ffn_up.weight`, "I2_S", [512, 128]],
      [`blk.${i}.ffn_sub_norm.weight`, "F32", [512]], [`blk.${i}.ffn_down.weight`, "I2_S", [128, 512]],
    );
  }
  assert.deepEqual(g.tensors.map((t) => [t.name, t.typeName, [...t.shape]]), expected);
  for (const t of g.tensors) assert.equal((g.dataOffset + t.offset) % 32, 0, `${t.name} aligned`);

  // I2_S: the native "i2s" packing of the same codes, the f32 scale, 28 zero bytes.
  for (const [name, p] of [["blk.0.attn_q.weight", packed.layers[0].q], ["blk.1.ffn_down.weight", packed.layers[1].down]] as const) {
    const t = g.tensors.find((x) => x.name === name)!;
    const codes = unpackTernary(p);
    const ref = packTernary(codes, { layout: "i2s" });
    const n = (p.shape[0] * p.shape[1]) / 4;
    assert.equal(t.byteLength, n + 32);
    assert.deepEqual(t.data.subarray(0, n), ref.data.data());
    assert.equal(new DataView(t.data.buffer, t.data.byteOffset + n, 4).getFloat32(0, true), scaleOf(p));
    assert.deepEqual(t.data.subarray(n + 4), new Uint8Array(28));
    codes.dispose();
    ref.dispose();
  }
  const embd = g.tensors.find((x) => x.name === "token_embd.weight")!;
  assert.deepEqual(embd.data, bytes(packed.embedding.data.data()));
  const sub = g.tensors.find((x) => x.name === "blk.1.ffn_sub_norm.weight")!;
  assert.deepEqual(sub.data, bytes(packed.layers[1].ffnSubNorm!.data()));
});

test("load: identical logits for f32 and f16 embeddings (read and memory-mapped), I2_S repacked, embedding and norms as views of one file buffer", () => {
  for (const format of ["f32", "f16"] as const) {
    const src = format === "f32" ? packed : packModel(lm, { embeddingFormat: format });
    const file = fresh();
    exportGGUF(src, file, { tokenizer });
    const live = memoryStats().liveTensors;
    // f16: memory-mapped (as files of 64 MiB and more are by default), unmapped on dispose.
    const { model, metadata, tokenizerJSON } = loadGGUF(file, { map: format === "f16" });
    const view = model.embedding.data.data();
    assert.deepEqual(model.config, src.config, "the config round-trips (1e-5 stays 1e-5)");
    assert.equal(model.embedding.format, format);
    assert.equal(model.head, model.embedding, "tied");
    assert.equal(model.layers[1].down.layout, "tl256", "I2_S is repacked to the kernels' layout at load");
    assert.deepEqual(model.layers[1].down.data.data(), src.layers[1].down.data.data(), "to the same bytes packModel made");
    assert.equal(scaleOf(model.layers[1].down), scaleOf(src.layers[1].down));
    const buffer = model.embedding.data.data().buffer;
    assert.equal(model.norm.data().buffer, buffer, "the embedding and F32 norms are views of the file's bytes");
    assert.equal(metadata.get("general.architecture")?.value, "bitnet-b1.58");
    assert.deepEqual(logits(model), logits(src), `${format} logits`);
    assert.ok(tokenizerJSON);
    model.dispose();
    assert.equal(memoryStats().liveTensors, live, "dispose frees every tensor");
    if (format === "f16") assert.equal(view.length, 0, "and unmaps the file");
    if (src !== packed) src.dispose();
  }
});

test("a SiLU model exports as 'bitnet'; untied head; headFormat; int8 heads go out as F16", () => {
  const silu = new BitNetLM({ ...BASE, hidden_act: "silu", tie_word_embeddings: false }, { seed: 8 });
  const src = packModel(silu);
  const file = fresh();
  exportGGUF(src, file);
  const g = parse(file);
  assert.equal(value(g, "general.architecture"), "bitnet");
  assert.equal(value(g, "bitnet.embedding_length"), 128);
  assert.equal(g.metadata.has("tokenizer.ggml.model"), false);
  const out = g.tensors.find((t) => t.name === "output.weight")!;
  assert.equal(out.typeName, "F32");
  assert.deepEqual(out.data, bytes(src.head.data.data()));
  const { model } = loadGGUF(file);
  assert.equal(model.config.hidden_act, "silu");
  assert.equal(model.config.tie_word_embeddings, false);
  assert.notEqual(model.head, model.embedding);
  assert.deepEqual(logits(model), logits(src));
  model.dispose();

  // A converted head (the embedding stays a view): same logits as packing with that format.
  const halfHead = packModel(silu, { headFormat: "f16" });
  const loaded = loadGGUF(file, { headFormat: "f16" });
  assert.equal(loaded.model.head.format, "f16");
  assert.equal(loaded.model.embedding.format, "f32");
  assert.deepEqual(logits(loaded.model), logits(halfHead));
  loaded.model.dispose();
  halfHead.dispose();

  const int8 = packModel(silu, { headFormat: "int8", embeddingFormat: "bf16" });
  const file8 = fresh();
  exportGGUF(int8, file8);
  const g8 = parse(file8);
  const embd = g8.tensors.find((t) => t.name === "token_embd.weight")!;
  assert.equal(embd.typeName, "BF16");
  assert.deepEqual(embd.data, bytes(int8.embedding.data.data()));
  const head = g8.tensors.find((t) => t.name === "output.weight")!;
  assert.equal(head.typeName, "F16");
  const dequantized = int8.head.toFloat32();
  assert.deepEqual(head.data, encodeF16(dequantized.toFloat32Array()), "q / s of every row, rounded to f16");
  dequantized.dispose();
  int8.dispose();
  src.dispose();
  silu.dispose();
});

test("TQ2_0 (per tensor and per row), F32-, F16- and BF16-ternary projections load with identical logits", () => {
  // TQ2_0 stores d in f16: the reference model has f16 scales, ffn_down of block 1 one per row.
  const rowScale = (s: number) => (r: number): number => f16(s * (1 + (r % 3) / 4));
  const ref = rescaled(packed, (p, i, key) => {
    const s = f16(scaleOf(p));
    if (i === 1 && key === "down") return Float32Array.from({ length: p.shape[0] }, (_, r) => rowScale(s)(r));
    return s;
  });
  const g = parse(fresh_export(packed));
  const replace: Record<string, GGUFTensorInput> = {};
  const add: GGUFTensorInput[] = [];
  const keys = [["q", "attn_q"], ["k", "attn_k"], ["v", "attn_v"], ["o", "attn_output"], ["gate", "ffn_gate"], ["up", "ffn_up"], ["down", "ffn_down"]] as const;
  ref.layers.forEach((l, i) => {
    keys.forEach(([key, gname], j) => {
      const p = l[key]!;
      const name = `blk.${i}.${gname}.weight`;
      const shape = [...p.shape];
      const s = scaleOf(p);
      const unit = codeValues(p, 1);
      if (key === "down") {
        const rows = p.scale.numel > 1 ? p.scale.toFloat32Array() : null;
        replace[name] = { name, type: "TQ2_0", shape, data: encodeTQ2_0(codeValues(p, rows ? (r) => rows[r] : s)) };
      } else if ((i + j) % 4 === 0) {
        replace[name] = { name, type: "F32", shape, data: encodeF32(codeValues(p, s)) };
      } else if ((i + j) % 4 === 1) {
        replace[name] = { name, type: "F16", shape, data: encodeF16(unit) };
        add.push({ name: `blk.${i}.${gname}.scale`, type: "F32", shape: [1], data: encodeF32(Float32Array.of(s)) });
      } else if ((i + j) % 4 === 2) {
        replace[name] = { name, type: "BF16", shape, data: encodeBF16(unit) };
        add.push({ name: `blk.${i}.${gname}.scale`, type: "F32", shape: [1], data: encodeF32(Float32Array.of(s)) });
      } else {
        const codes = unpackTernary(p);
        replace[name] = { name, type: "I2_S", shape, data: encodeI2S(codes.data(), shape[0], shape[1], s) };
        codes.dispose();
      }
    });
  });
  const file = rewrite(g, { replace, add });
  const { model } = loadGGUF(file);
  assert.equal(model.layers[0].down.layout, "tl256", "TQ2_0 is repacked");
  assert.equal(model.layers[0].down.scale.numel, 1);
  assert.deepEqual(model.layers[1].down.scale.toFloat32Array(), ref.layers[1].down.scale.toFloat32Array(), "one scale per row");
  assert.equal(model.layers[0].o.layout, "tl256");
  model.layers.forEach((l, i) => keys.forEach(([key]) => {
    const a = unpackTernary(l[key]!);
    const b = unpackTernary(ref.layers[i][key]!);
    assert.deepEqual(a.data(), b.data(), `codes of ${i}.${key}`);
    a.dispose();
    b.dispose();
  }));
  assert.deepEqual(logits(model), logits(ref));

  // Per-row scales cannot be I2_S: exporting this model is an error naming the tensor.
  assert.throws(() => exportGGUF(model, fresh()), { name: "RangeError", message: /exportGGUF: tensor 'blk\.1\.ffn_down\.weight' has per-row weight scales \(128 of them\); I2_S stores one scale per tensor/ });
  model.dispose();
  ref.dispose();
});

function fresh_export(model: PackedModel): string {
  const file = fresh();
  exportGGUF(model, file, { tokenizer });
  return file;
}

test("bad files: missing, mistyped, reshaped and extra tensors, non-ternary floats, varying TQ2_0 scales, bad keys", () => {
  const g = parse(fresh_export(packed));
  const expectError = (file: string, message: RegExp): void => {
    assert.throws(() => loadGGUF(file), (e: Error) => {
      assert.equal(e.name, "GGUFFormatError");
      assert.ok(e.message.startsWith(`loadGGUF: '${file}': `), e.message);
      assert.match(e.message, message);
      return true;
    });
  };
  const live = memoryStats().liveTensors;
  expectError(rewrite(g, { replace: { "blk.1.ffn_up.weight": null } }), /has no tensor 'blk\.1\.ffn_up\.weight' \(expected I2_S\/TQ2_0\/TQ1_0\/F32\/F16\/BF16 \[512, 128\]/);
  const V = tokenizer.vocabSize;
  expectError(rewrite(g, { replace: { "token_embd.weight": { name: "token_embd.weight", type: "I8", shape: [V, 128], data: new Uint8Array(V * 128) } } }), /tensor 'token_embd\.weight' has type I8, expected F32, F16, BF16/);
  expectError(rewrite(g, { replace: { "output_norm.weight": { name: "output_norm.weight", type: "F32", shape: [127], data: new Uint8Array(127 * 4) } } }), /tensor 'output_norm\.weight' has shape \[127\], expected \[128\]/);
  expectError(rewrite(g, { replace: { "blk.0.attn_k.weight": { name: "blk.0.attn_k.weight", type: "I2_S", shape: [128, 128], data: new Uint8Array(128 * 32 + 32) } } }), /tensor 'blk\.0\.attn_k\.weight' has shape \[128, 128\], expected \[64, 128\]/);
  expectError(rewrite(g, { add: [{ name: "blk.2.attn_q.weight", type: "F32", shape: [1], data: new Uint8Array(4) }] }), /has an unexpected tensor 'blk\.2\.attn_q\.weight' for its hyperparameters \(2 blocks\)/);
  expectError(rewrite(g, { add: [{ name: "output.weight", type: "F32", shape: [V, 127], data: new Uint8Array(V * 127 * 4) }] }), /tensor 'output\.weight' has shape \[\d+, 127\], expected \[\d+, 128\]/);

  // F16 values that are not {-s, 0, s}: one weight off, named by row and column.
  const q = packed.layers[0].q;
  const s = f16(scaleOf(q));
  const values = codeValues(q, s);
  const first = values.findIndex((v) => v !== 0);
  const at = values.findIndex((v, i) => v !== 0 && i > first);
  values[at] = values[at] / 2;
  expectError(
    rewrite(g, { replace: { "blk.0.attn_q.weight": { name: "blk.0.attn_q.weight", type: "F16", shape: [128, 128], data: encodeF16(values) } } }),
    new RegExp(`tensor 'blk\\.0\\.attn_q\\.weight' \\(F16 \\[128, 128\\]\\) is not ternary: element \\[${Math.floor(at / 128)}, ${at % 128}\\] is -?${Math.abs(values[at])}, but the tensor's first nonzero magnitude is ${s}`),
  );
  // TQ2_0 whose two blocks in row 5 have different scales.
  const down = packed.layers[0].down;
  const d0 = f16(scaleOf(down));
  const tq = codeValues(down, d0);
  for (let c = 256; c < 512; c++) tq[5 * 512 + c] *= 2;
  expectError(
    rewrite(g, { replace: { "blk.0.ffn_down.weight": { name: "blk.0.ffn_down.weight", type: "TQ2_0", shape: [128, 512], data: encodeTQ2_0(tq) } } }),
    new RegExp(`tensor 'blk\\.0\\.ffn_down\\.weight' \\(TQ2_0 \\[128, 512\\]\\) row 5 has blocks with the scales ${d0} \\(block 10\\) and ${2 * d0} \\(block 11\\); bitnet-lab's kernels take one scale per tensor or per row`),
  );
  // A corrupted I2_S code (3) and a bad I2_S scale.
  const i2s = g.tensors.find((t) => t.name === "blk.1.attn_v.weight")!;
  const corrupt = i2s.data.slice();
  corrupt[7] = 0xff;
  expectError(rewrite(g, { replace: { "blk.1.attn_v.weight": { name: "blk.1.attn_v.weight", type: "I2_S", shape: [64, 128], data: corrupt } } }), /tensor 'blk\.1\.attn_v\.weight' \(I2_S \[64, 128\]\) weight \[0, 7\] \(byte 7, bits 6-7\) has the code 3/);
  const zeroScale = i2s.data.slice();
  zeroScale.fill(0, 64 * 128 / 4, 64 * 128 / 4 + 4);
  expectError(rewrite(g, { replace: { "blk.1.attn_v.weight": { name: "blk.1.attn_v.weight", type: "I2_S", shape: [64, 128], data: zeroScale } } }), /the I2_S scale is 0, expected a finite positive number/);
  // Keys: another architecture, a missing epsilon, a head size that disagrees, a vocabulary of another size.
  expectError(rewrite(g, { metadata: { "general.architecture": { type: "string", value: "llama" } } }), /key 'general\.architecture' is "llama"; bitnet-lab reads "bitnet" \(SiLU FFN\) and "bitnet-b1\.58" \(ReLU\^2 FFN\)/);
  expectError(rewrite(g, { metadata: { "bitnet-b1.58.attention.layer_norm_rms_epsilon": null } }), /key 'bitnet-b1\.58\.attention\.layer_norm_rms_epsilon' is missing \(expected a number\)/);
  expectError(rewrite(g, { metadata: { "bitnet-b1.58.rope.dimension_count": { type: "u32", value: 64 } } }), /key 'bitnet-b1\.58\.rope\.dimension_count' is 64, expected the head size 128 \/ 4 = 32/);
  expectError(rewrite(g, { metadata: { "bitnet-b1.58.block_count": { type: "u32", value: 0 } } }), /key 'bitnet-b1\.58\.block_count' is 0, expected a positive integer/);
  expectError(rewrite(g, { metadata: { "bitnet-b1.58.block_count": { type: "u32", value: 4e9 } } }), /key 'bitnet-b1\.58\.block_count' is 4000000000, but the file holds only 24 tensors/);
  expectError(rewrite(g, { metadata: { "tokenizer.ggml.tokens": { type: "array", elementType: "string", value: ["a", "b"] } } }), new RegExp(`key 'tokenizer\\.ggml\\.tokens' lists 2 tokens, but 'token_embd\\.weight' has ${V} rows`));
  assert.equal(memoryStats().liveTensors, live, "a failed load leaves nothing allocated");
  // Not GGUF at all, or absent.
  const text = path.join(dir, "not.gguf");
  fs.writeFileSync(text, "hello world, this is not a GGUF file at all");
  assert.throws(() => loadGGUF(text), { name: "GGUFFormatError", message: /bad magic/ });
  assert.throws(() => loadGGUF(path.join(dir, "absent.gguf")), /absent\.gguf/);
  assert.ok(new GGUFFormatError("x") instanceof Error);
});

test("models bitnet.cpp cannot run are export errors, before any file is written", () => {
  const cases: [Partial<BitNetConfig>, RegExp][] = [
    [{ sub_norm: false }, /exportGGUF: bitnet\.cpp's bitnet graphs need SubLN \(attn_sub_norm, ffn_sub_norm\); this model has sub_norm: false/],
    [{ gated: false }, /exportGGUF: bitnet\.cpp's bitnet graphs need a gated FFN \(ffn_gate\); this model has gated: false/],
    [{ hidden_size: 64, num_attention_heads: 2, num_key_value_heads: 2 }, /exportGGUF: tensor 'blk\.0\.attn_q\.weight' \[64, 64\] has rows of 64 weights; I2_S \(x86\) packs rows in blocks of 128/],
  ];
  for (const [change, message] of cases) {
    const m = new BitNetLM({ ...BASE, num_hidden_layers: 1, ...change }, { seed: 1 });
    const p = packModel(m);
    const file = fresh();
    assert.throws(() => exportGGUF(p, file), { name: "RangeError", message });
    assert.equal(fs.existsSync(file), false);
    p.dispose();
    m.dispose();
  }
  assert.throws(() => exportGGUF(packed, fresh(), { tokenizer: new ByteTokenizer() }), { name: "RangeError", message: new RegExp(`the tokenizer has 256 tokens, the model's vocab_size is ${tokenizer.vocabSize}`) });
  assert.throws(() => exportGGUF(packed, fresh(), { tokenizer, eosTokenId: 999 }), { name: "RangeError", message: /opts\.eosTokenId must be a token id in \[0, \d+\), received 999/ });
});

test("character vocabularies with multi-byte characters: merges rebuild each character; tokenizers.js encodes like CharTokenizer", () => {
  const text = "naïve café — ✓ 🙂 ok";
  const chars = CharTokenizer.fromText(text);
  const m = new BitNetLM({ ...BASE, num_hidden_layers: 1, vocab_size: chars.vocabSize }, { seed: 2 });
  const p = packModel(m);
  const file = fresh();
  exportGGUF(p, file, { tokenizer: chars, bosTokenId: 0 });
  const g = parse(file);
  const tokens = value(g, "tokenizer.ggml.tokens") as string[];
  // By hand: GPT-2's map keeps bytes 0xA1-0xAC and 0xAE-0xFF, and sends 0x00-0x20, 0x7F-0xA0 and
  // 0xAD to U+0100 + their rank among those: 0x20 -> U+0120, 0x80 -> U+0122, 0x94 -> U+0136,
  // 0x9C -> U+013E, 0x9F -> U+0141, 0x82 -> U+0124.
  const expectedToken: Record<string, string> = {
    " ": "\u0120",
    "é": "\u00c3\u00a9", // c3 a9
    "ï": "\u00c3\u00af", // c3 af
    "—": "\u00e2\u0122\u0136", // e2 80 94
    "✓": "\u00e2\u013e\u0135", // e2 9c 93 -> 0x93 is U+0135
    "🙂": "\u00f0\u0141\u013b\u0124", // f0 9f 99 82 -> 0x99 is U+013B
  };
  for (const [ch, tok] of Object.entries(expectedToken)) assert.equal(tokens[chars.encode(ch)[0]], tok, JSON.stringify(ch));
  assert.deepEqual(value(g, "tokenizer.ggml.merges"), [
    // First byte + second byte, in vocabulary (code point) order: é, ï, —, ✓, 🙂
    "\u00c3 \u00a9", "\u00c3 \u00af", "\u00e2 \u0122", "\u00e2 \u013e", "\u00f0 \u0141",
    // Then the two-byte prefixes + the third byte (—, ✓, 🙂), then 🙂's three-byte prefix + its last.
    "\u00e2\u0122 \u0136", "\u00e2\u013e \u0135", "\u00f0\u0141 \u013b", "\u00f0\u0141\u013b \u0124",
  ]);
  assert.deepEqual(g.metadata.get("tokenizer.ggml.bos_token_id"), { type: "u32", value: 0 });
  assert.equal(g.metadata.has("tokenizer.ggml.eos_token_id"), false);

  const json = loadGGUF(file).tokenizerJSON!;
  const model = json.model as { type: string; vocab: Record<string, number>; merges: string[] };
  assert.equal(model.type, "BPE");
  assert.equal(Object.keys(model.vocab).length, chars.vocabSize);
  assert.equal(model.vocab["\u00c3\u00a9"], chars.encode("é")[0]);
  assert.deepEqual(model.merges, value(g, "tokenizer.ggml.merges"));
  assert.deepEqual(json.pre_tokenizer, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.deepEqual(json.decoder, { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true });
  assert.equal(json.post_processor, null, "add_bos_token false: no template");
  const hf = new HFTokenizer(json, {});
  for (const s of [text, "ok café ✓ 🙂🙂", "—naïve—"]) {
    assert.deepEqual(hf.encode(s).ids, Array.from(chars.encode(s)), s);
    assert.equal(hf.decode(Array.from(chars.encode(s))), s);
  }
  // The byte tokenizer: 256 tokens, no merges; tokenizers.js gives the UTF-8 bytes.
  const mb = new BitNetLM({ ...BASE, num_hidden_layers: 1, vocab_size: 256 }, { seed: 2 });
  const pb = packModel(mb);
  const fb = fresh();
  exportGGUF(pb, fb, { tokenizer: new ByteTokenizer() });
  const gb = parse(fb);
  assert.deepEqual((value(gb, "tokenizer.ggml.tokens") as string[]).slice(0x1e, 0x24), ["\u011e", "\u011f", "\u0120", "!", "\"", "#"]);
  assert.equal((value(gb, "tokenizer.ggml.tokens") as string[])[0xad], "\u0143");
  assert.deepEqual(value(gb, "tokenizer.ggml.merges"), []);
  const hfb = new HFTokenizer(ggufTokenizerToJSON(gb), {});
  assert.deepEqual(hfb.encode(text).ids, Array.from(new ByteTokenizer().encode(text)));
  // loadGGUF gives a ready tokenizer (our HFTokenizer) when the vocabulary has every byte.
  const loadedB = loadGGUF(fb);
  assert.ok(loadedB.tokenizer, loadedB.tokenizerError);
  assert.deepEqual(Array.from(loadedB.tokenizer.encode(text, { addBos: false })), Array.from(new ByteTokenizer().encode(text)));
  loadedB.model.dispose();
  // The fixture model's tokenizer through its GGUF file encodes the training text like CharTokenizer.
  const loadedC = loadGGUF(fresh_export(packed));
  const hfc = new HFTokenizer(loadedC.tokenizerJSON!, {});
  assert.deepEqual(hfc.encode(TEXT.slice(0, 200)).ids, Array.from(tokenizer.encode(TEXT.slice(0, 200))));
  assert.equal(loadedC.tokenizer, undefined, "a character vocabulary lacks byte symbols: no HFTokenizer");
  assert.match(loadedC.tokenizerError ?? "", /byte/);
  loadedC.model.dispose();
  for (const x of [p, m, pb, mb]) x.dispose();
});

test("a tokenizer.json (LLaMA-3 style) exports as llama-bpe and converts back", () => {
  const m = new BitNetLM({ ...BASE, num_hidden_layers: 1, vocab_size: 8 }, { seed: 4 });
  const p = packModel(m);
  const split = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const tj = {
    model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2, "\u0120": 3, "\u0120ab": 4, c: 5 }, merges: [["a", "b"], ["\u0120", "ab"]] },
    added_tokens: [
      { id: 6, content: "<|begin_of_text|>", special: true },
      { id: 7, content: "<|end_of_text|>", special: true },
    ],
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: split }, behavior: "Isolated", invert: false }, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }], special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [6], tokens: ["<|begin_of_text|>"] } } },
    decoder: { type: "ByteLevel" },
  };
  const file = fresh();
  exportGGUF(p, file, { tokenizer: tj, eosTokenId: 7 });
  const g = parse(file);
  assert.equal(value(g, "tokenizer.ggml.pre"), "llama-bpe");
  assert.deepEqual(value(g, "tokenizer.ggml.tokens"), ["a", "b", "ab", "\u0120", "\u0120ab", "c", "<|begin_of_text|>", "<|end_of_text|>"]);
  assert.deepEqual(value(g, "tokenizer.ggml.token_type"), [1, 1, 1, 1, 1, 1, 3, 3]);
  assert.deepEqual(value(g, "tokenizer.ggml.merges"), ["a b", "\u0120 ab"]);
  assert.deepEqual(g.metadata.get("tokenizer.ggml.bos_token_id"), { type: "u32", value: 6 });
  assert.deepEqual(g.metadata.get("tokenizer.ggml.eos_token_id"), { type: "u32", value: 7 });
  assert.deepEqual(g.metadata.get("tokenizer.ggml.add_bos_token"), { type: "bool", value: true });

  const json = ggufTokenizerToJSON(g);
  assert.deepEqual((json.model as { vocab: unknown }).vocab, { a: 0, b: 1, ab: 2, "\u0120": 3, "\u0120ab": 4, c: 5 });
  assert.equal((json.model as { ignore_merges: boolean }).ignore_merges, true);
  assert.deepEqual((json.added_tokens as { id: number; content: string; special: boolean }[]).map((t) => [t.id, t.content, t.special]), [[6, "<|begin_of_text|>", true], [7, "<|end_of_text|>", true]]);
  assert.deepEqual(json.pre_tokenizer, tj.pre_tokenizer);
  const post = json.post_processor as { type: string; special_tokens: Record<string, { ids: number[] }> };
  assert.equal(post.type, "TemplateProcessing");
  assert.deepEqual(post.special_tokens["<|begin_of_text|>"].ids, [6]);
  const hf = new HFTokenizer(json, {});
  assert.deepEqual(hf.encode("ab ab").ids, [6, 2, 4], "BOS, then 'ab' and ' ab' merged");

  // Metadata that does not convert: another tokenizer model, a token listed twice, a bad id.
  const meta = new Map(g.metadata);
  meta.set("tokenizer.ggml.model", { type: "string", value: "llama" });
  assert.throws(() => ggufTokenizerToJSON(meta), { name: "GGUFFormatError", message: /key 'tokenizer\.ggml\.model' is "llama"; only byte-level BPE \("gpt2"\) tokenizers convert/ });
  meta.set("tokenizer.ggml.model", { type: "string", value: "gpt2" });
  meta.set("tokenizer.ggml.tokens", { type: "array", elementType: "string", value: ["a", "b", "a", "x", "y", "z", "s", "e"] });
  assert.throws(() => ggufTokenizerToJSON(meta), { name: "GGUFFormatError", message: /lists "a" twice \(ids 0 and 2\)/ });
  meta.set("tokenizer.ggml.tokens", g.metadata.get("tokenizer.ggml.tokens")!);
  meta.set("tokenizer.ggml.bos_token_id", { type: "u32", value: 8 });
  assert.throws(() => ggufTokenizerToJSON(meta), { name: "GGUFFormatError", message: /key 'tokenizer\.ggml\.bos_token_id' is 8, expected a token id in \[0, 8\)/ });
  // A tokenizer.json that is not byte-level BPE, or leaves an id without a token.
  assert.throws(() => exportGGUF(p, fresh(), { tokenizer: { ...tj, pre_tokenizer: null, decoder: null } }), { name: "RangeError", message: /is not byte-level/ });
  assert.throws(() => exportGGUF(p, fresh(), { tokenizer: { ...tj, added_tokens: [tj.added_tokens[0]] } }), { name: "RangeError", message: /has no token with id 7/ });
  assert.throws(() => exportGGUF(p, fresh(), { tokenizer: { ...tj, pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Digits" }, { type: "ByteLevel" }] } } }), { name: "RangeError", message: /pre-tokenizer .* is neither LLaMA-3's split \("llama-bpe"\) nor GPT-2's ByteLevel split \("default"\)/ });
  p.dispose();
  m.dispose();
});
