// Hugging Face BitNet checkpoints (BitNetForCausalLM, microsoft/bitnet-b1.58-2B-4T and its -bf16
// master weights): config.json mapped onto BitNetConfig, model.safetensors (or shards listed by
// model.safetensors.index.json) checked tensor by tensor against the config before anything is
// built, then either a PackedModel for inference (packed repos: the uint8 "hf"-layout codes are
// used as read, no repacking until the kernels ask for their layout) or a BitNetLM to fine-tune
// (-bf16 repos). Packed repos store each projection as uint8 [N / 4, K], byte [r, c] holding rows
// r, r + N/4, r + N/2, r + 3N/4 of column c in 2 bits each, with a weight_scale: the "hf" layout
// of native/src/cpu/pack/pack.h.
import * as fs from "node:fs";
import * as path from "node:path";
import { BitNetConfig, BitNetLM, ResolvedBitNetConfig, resolveBitNetConfig } from "../nn/bitnet";
import { PackedTernary, findInvalidTernaryCode, packTernary, unpackTernary } from "../quant";
import { DenseFormat, DenseWeights, checkDenseFormat } from "../quant/dense";
import { MAP_THRESHOLD, readFileBytes, releaseFileBytes, releaseFilePages } from "../io/file-bytes";
import { tensorOverBytes } from "../io/views";
import { constants as bufferConstants } from "node:buffer";
import { SafetensorsFormatError, SafetensorsTensorInfo, parseSafetensors, readSafetensors, readSafetensorsHeader } from "../io/safetensors";
import { bf16BitsToNumber, f16BitsToNumber } from "../tensor/half";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { HFFormatError, HFTokenizer } from "../tokenizers/hf";
import { PackedLayer, PackedModel, packModel } from "../infer/pack";
import { PROJECTIONS, ProjectionKey, projectionShape } from "./layout";


/** How a packed checkpoint's weight_scale relates to mean|W| (transformers' quantization_config.linear_class). */
type LinearClass = "autobitlinear" | "bitlinear";

interface HFConfig {
  config: ResolvedBitNetConfig;
  /** null when config.json does not say (the loader then decides by magnitude). */
  linearClass: LinearClass | null;
  mode: "offline" | "online" | null;
}

const ARCHITECTURES = ["BitNetForCausalLM", "BitnetForCausalLM"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "AutoBitLinear", "auto_bit_linear" -> "autobitlinear": older model cards spell the values differently. */
function normalizeName(v: string): string {
  return v.toLowerCase().replace(/[-_\s]/g, "");
}

function parseHFConfig(json: unknown, where: string): HFConfig {
  const fail = (message: string): never => {
    throw new HFFormatError(`${where}: ${message}`);
  };
  if (!isObject(json)) return fail(`must be a JSON object, found ${describe(json)}`);
  const has = (key: string): boolean => json[key] !== undefined && json[key] !== null;
  if (has("architectures")) {
    const a = json.architectures;
    if (!Array.isArray(a) || !a.some((x) => ARCHITECTURES.includes(x as string))) fail(`field 'architectures' is ${JSON.stringify(a)}; bitnet-lab reads 'BitNetForCausalLM'`);
  }
  if (typeof json.model_type !== "string" || normalizeName(json.model_type) !== "bitnet") fail(`field 'model_type' is ${describe(json.model_type)}, expected 'bitnet'`);
  for (const key of ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"]) {
    const v = json[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) fail(`field '${key}' is ${describe(v)}, expected a positive integer`);
  }
  const d = json.hidden_size as number;
  const heads = json.num_attention_heads as number;
  if (has("head_dim") && json.head_dim !== d / heads) fail(`field 'head_dim' is ${describe(json.head_dim)}; bitnet-lab needs hidden_size / num_attention_heads = ${d / heads}`);
  if (has("rope_scaling")) fail(`field 'rope_scaling' is ${JSON.stringify(json.rope_scaling)}; bitnet-lab has plain RoPE only (expected null)`);
  for (const key of ["attention_bias", "mlp_bias"]) if (has(key) && json[key] !== false) fail(`field '${key}' is ${describe(json[key])}; BitNet projections have no bias (expected false)`);
  if (has("pretraining_tp") && json.pretraining_tp !== 1) fail(`field 'pretraining_tp' is ${describe(json.pretraining_tp)}, expected 1`);
  const act = json.hidden_act ?? "relu2";
  if (act !== "relu2" && act !== "silu") fail(`field 'hidden_act' is ${describe(act)}; bitnet-lab has 'relu2' (BitNet b1.58) and 'silu'`);

  let linearClass: LinearClass | null = null;
  let mode: HFConfig["mode"] = null;
  if (has("quantization_config")) {
    const q = json.quantization_config;
    if (!isObject(q)) return fail(`field 'quantization_config' must be an object, found ${describe(q)}`);
    if (typeof q.quant_method !== "string" || normalizeName(q.quant_method) !== "bitnet") fail(`field 'quantization_config.quant_method' is ${describe(q.quant_method)}, expected 'bitnet'`);
    if (q.linear_class !== undefined && q.linear_class !== null) {
      const c = typeof q.linear_class === "string" ? normalizeName(q.linear_class) : "";
      if (c !== "autobitlinear" && c !== "bitlinear") fail(`field 'quantization_config.linear_class' is ${describe(q.linear_class)}, expected 'autobitlinear' or 'bitlinear'`);
      linearClass = c as LinearClass;
    }
    if (q.quantization_mode !== undefined && q.quantization_mode !== null) {
      const m = typeof q.quantization_mode === "string" ? normalizeName(q.quantization_mode) : "";
      if (m !== "offline" && m !== "online") fail(`field 'quantization_config.quantization_mode' is ${describe(q.quantization_mode)}, expected 'offline' or 'online'`);
      mode = m as "offline" | "online";
    }
    if (q.use_rms_norm !== undefined && q.use_rms_norm !== null && q.use_rms_norm !== false) {
      fail(`field 'quantization_config.use_rms_norm' is ${describe(q.use_rms_norm)}; bitnet-lab's projections have no norm of their own (expected false)`);
    }
    const keep = q.modules_to_not_convert;
    if (keep !== undefined && keep !== null && (!Array.isArray(keep) || keep.some((k) => k !== "lm_head"))) {
      fail(`field 'quantization_config.modules_to_not_convert' is ${JSON.stringify(keep)}; bitnet-lab keeps only lm_head in full precision`);
    }
  }
  // Defaults are transformers' BitNetConfig defaults, so a field left out means what it means there.
  const config: BitNetConfig = {
    hidden_size: d,
    intermediate_size: json.intermediate_size as number,
    num_hidden_layers: json.num_hidden_layers as number,
    num_attention_heads: heads,
    num_key_value_heads: has("num_key_value_heads") ? (json.num_key_value_heads as number) : heads,
    vocab_size: json.vocab_size as number,
    rope_theta: has("rope_theta") ? (json.rope_theta as number) : 500000,
    rms_norm_eps: has("rms_norm_eps") ? (json.rms_norm_eps as number) : 1e-5,
    hidden_act: act as "relu2" | "silu",
    tie_word_embeddings: has("tie_word_embeddings") ? (json.tie_word_embeddings as boolean) : false,
    max_position_embeddings: has("max_position_embeddings") ? (json.max_position_embeddings as number) : 2048,
    linear: "bitnet",
    sub_norm: true,
    gated: true,
  };
  let resolved: ResolvedBitNetConfig;
  try {
    resolved = resolveBitNetConfig(config, "config");
  } catch (e) {
    // resolveBitNetConfig names the field as 'config.<field>': the same name as in config.json.
    throw new HFFormatError(`${where}: ${(e as Error).message.replace(/^config: /, "")}`, { cause: e });
  }
  const hd = d / heads;
  for (const [what, n] of [["hidden_size", d], ["num_key_value_heads * head_dim", resolved.num_key_value_heads * hd], ["intermediate_size", resolved.intermediate_size]] as const) {
    if (n % 4 !== 0) fail(`${what} is ${n}; packed projections hold 4 output rows a byte, so it must be a multiple of 4`);
  }
  return { config: resolved, linearClass, mode };
}

/**
 * Maps a Hugging Face BitNet config.json (model_type "bitnet", architectures
 * ["BitNetForCausalLM"]) onto bitnet-lab's resolved config (linear "bitnet", SubLN, gated FFN).
 * Fields config.json leaves out take transformers' BitNetConfig defaults (rope_theta 500000,
 * tie_word_embeddings false, ...); the sizes are required. Values bitnet-lab cannot run (another
 * model_type, a head_dim other than hidden_size / num_attention_heads, rope_scaling, biases,
 * another hidden_act, a quantization_config other than BitNet's) are {@link HFFormatError}s naming
 * `where` and the field.
 */
export function bitNetConfigFromHF(json: unknown, where = "config.json"): ResolvedBitNetConfig {
  if (typeof where !== "string") throw new TypeError(`bitNetConfigFromHF: where must be a string, received ${describe(where)}`);
  return parseHFConfig(json, where).config;
}

/** Options of {@link loadHFBitNet}. */
export interface LoadHFBitNetOptions {
  /** Storage of the LM head (default 'bf16': the checkpoint's own precision, used without a copy). */
  headFormat?: DenseFormat;
  /** Storage of the token embeddings (default headFormat; a tied model whose two formats differ stores the matrix twice). */
  embeddingFormat?: DenseFormat;
  /** Memory-map the safetensors files (default: files of 64 MiB and more, up to one buffer's 4 GiB on Node 20). */
  map?: boolean;
}

/** What {@link loadHFBitNet} returns. */
export interface HFBitNet {
  /** The model, ready for an InferenceEngine (dispose it). */
  model: PackedModel;
  /** Its configuration (also `model.config`). */
  config: ResolvedBitNetConfig;
  /** The tokenizer of the directory's tokenizer.json, when it has one. */
  tokenizer?: HFTokenizer;
}

const FLOAT_DTYPES = ["BF16", "F16", "F32"];

/** The tensors of a checkpoint's safetensors file(s): name -> file and header entry. */
interface Checkpoint {
  entries: Map<string, { file: string; info: SafetensorsTensorInfo }>;
}

function safetensorsError(fn: string, e: unknown): never {
  if (e instanceof SafetensorsFormatError) throw new HFFormatError(`${fn}: ${e.message}`, { cause: e });
  throw e;
}

/** Lists the tensors of dir/model.safetensors, or of the shards named by dir/model.safetensors.index.json. */
function openCheckpoint(fn: string, dir: string): Checkpoint {
  const entries: Checkpoint["entries"] = new Map();
  const single = path.join(dir, "model.safetensors");
  const indexFile = path.join(dir, "model.safetensors.index.json");
  if (fs.existsSync(single)) {
    let header;
    try {
      header = readSafetensorsHeader(single);
    } catch (e) {
      safetensorsError(fn, e);
    }
    for (const [name, info] of header.tensors) entries.set(name, { file: single, info });
    return { entries };
  }
  if (!fs.existsSync(indexFile)) throw new HFFormatError(`${fn}: '${dir}' holds neither model.safetensors nor model.safetensors.index.json`);
  const where = `'${indexFile}'`;
  const indexBytes = readFileBytes(indexFile, fn);
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(indexBytes));
  } catch (e) {
    throw new HFFormatError(`${fn}: ${where} is not UTF-8 JSON (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
  if (!isObject(index) || !isObject(index.weight_map)) throw new HFFormatError(`${fn}: ${where} has no 'weight_map' object`);
  const byShard = new Map<string, Set<string>>();
  for (const [name, shard] of Object.entries(index.weight_map)) {
    // A shard is a file of this directory: a path elsewhere (or up) is refused.
    if (typeof shard !== "string" || !/^[^/\\]+\.safetensors$/.test(shard) || shard.startsWith(".")) {
      throw new HFFormatError(`${fn}: ${where} weight_map['${name}'] is ${describe(shard)}, expected the name of a .safetensors file in '${dir}'`);
    }
    if (!byShard.has(shard)) byShard.set(shard, new Set());
    byShard.get(shard)!.add(name);
  }
  for (const [shard, names] of byShard) {
    const file = path.join(dir, shard);
    let header;
    try {
      header = readSafetensorsHeader(file);
    } catch (e) {
      safetensorsError(fn, e);
    }
    for (const [name, info] of header.tensors) {
      if (!names.has(name)) throw new HFFormatError(`${fn}: '${file}' holds tensor '${name}', which ${where} does not map to it`);
      entries.set(name, { file, info });
    }
    for (const name of names) if (!header.tensors.has(name)) throw new HFFormatError(`${fn}: ${where} maps tensor '${name}' to '${file}', which does not hold it`);
  }
  return { entries };
}

/** Reads the config and checks every tensor of the checkpoint against it; says which variant it is. */
function inspect(fn: string, dir: string): { hf: HFConfig; checkpoint: Checkpoint; packed: boolean; configFile: string } {
  if (typeof dir !== "string" || dir === "") throw new TypeError(`${fn}: dir must be a non-empty string (a directory holding config.json and model.safetensors), received ${describe(dir)}`);
  const configFile = path.join(dir, "config.json");
  const bytes = readFileBytes(configFile, fn);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new HFFormatError(`${fn}: '${configFile}' is not UTF-8 JSON (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
  const hf = parseHFConfig(json, `${fn}: '${configFile}'`);
  const c = hf.config;
  const checkpoint = openCheckpoint(fn, dir);
  const { entries } = checkpoint;
  const probe = entries.get("model.layers.0.self_attn.q_proj.weight");
  if (!probe) throw new HFFormatError(`${fn}: '${dir}' has no tensor 'model.layers.0.self_attn.q_proj.weight'`);
  const packed = probe.info.fileDType === "U8";
  if (packed && hf.mode === "online") throw new HFFormatError(`${fn}: '${configFile}' says quantization_mode 'online' (latent weights), but the checkpoint holds packed uint8 projections`);

  // Each expected tensor is checked as it is listed, so a config.json asking for absurdly many
  // layers fails at the first one the file lacks instead of listing them all.
  const shapeText = (s: readonly number[]): string => `[${s.join(", ")}]`;
  const seen = new Set<string>();
  const expect = (name: string, dtypes: string[], ...shapes: number[][]): void => {
    const got = entries.get(name);
    if (!got) throw new HFFormatError(`${fn}: '${dir}' has no tensor '${name}' (config.json asks for it${packed ? ", packed checkpoint" : ", bf16 checkpoint"})`);
    const { fileDType, shape } = got.info;
    if (!dtypes.includes(fileDType) || !shapes.some((s) => s.length === shape.length && s.every((x, j) => x === shape[j]))) {
      throw new HFFormatError(`${fn}: '${got.file}' tensor '${name}' is ${fileDType} ${shapeText(shape)}, expected ${dtypes.join(" or ")} ${shapes.map(shapeText).join(" or ")}`);
    }
    seen.add(name);
  };
  const d = c.hidden_size;
  expect("model.embed_tokens.weight", FLOAT_DTYPES, [c.vocab_size, d]);
  expect("model.norm.weight", FLOAT_DTYPES, [d]);
  if (!c.tie_word_embeddings) expect("lm_head.weight", FLOAT_DTYPES, [c.vocab_size, d]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const at = `model.layers.${i}`;
    expect(`${at}.input_layernorm.weight`, FLOAT_DTYPES, [d]);
    expect(`${at}.post_attention_layernorm.weight`, FLOAT_DTYPES, [d]);
    expect(`${at}.self_attn.attn_sub_norm.weight`, FLOAT_DTYPES, [d]);
    expect(`${at}.mlp.ffn_sub_norm.weight`, FLOAT_DTYPES, [c.intermediate_size]);
    for (const [key, name] of PROJECTIONS) {
      const [n, k] = projectionShape(c, key);
      if (packed) {
        expect(`${at}.${name}.weight`, ["U8"], [n / 4, k]);
        expect(`${at}.${name}.weight_scale`, FLOAT_DTYPES, [1], []);
      } else {
        expect(`${at}.${name}.weight`, FLOAT_DTYPES, [n, k]);
      }
    }
  }
  for (const [name, { file }] of entries) {
    if (!seen.has(name)) throw new HFFormatError(`${fn}: '${file}' has an unexpected tensor '${name}' for its config.json${packed ? " (a packed checkpoint)" : " (a bf16 checkpoint)"}`);
  }
  return { hf, checkpoint, packed, configFile };
}

/** Reads the listed tensors (every one of the checkpoint by default) into native memory. */
/**
 * The checkpoint's tensors. A file of MAP_THRESHOLD bytes and more (and at most one buffer's
 * size) is memory-mapped and its tensors are views of the mapping (`files` lists the mappings, to
 * release when nothing views them any more); others are read into native memory.
 */
function readTensors(fn: string, checkpoint: Checkpoint, map?: boolean): { tensors: Map<string, Tensor>; files: Uint8Array[] } {
  const byFile = new Map<string, string[]>();
  for (const [name, { file }] of checkpoint.entries) {
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(name);
  }
  const out = new Map<string, Tensor>();
  const files: Uint8Array[] = [];
  try {
    for (const [file, names] of byFile) {
      const size = fs.statSync(file).size;
      if (size <= bufferConstants.MAX_LENGTH && (map ?? size >= MAP_THRESHOLD)) {
        const bytes = readFileBytes(file, fn, { map: true });
        files.push(bytes);
        let parsed: ReturnType<typeof parseSafetensors>;
        try {
          parsed = parseSafetensors(bytes, file);
        } catch (e) {
          safetensorsError(fn, e);
        }
        for (const name of names) {
          const info = parsed.header.tensors.get(name) as SafetensorsTensorInfo;
          out.set(name, tensorOverBytes(parsed.data.get(name) as Uint8Array, info.dtype as Tensor["dtype"], info.shape));
        }
        continue;
      }
      let tensors;
      try {
        tensors = readSafetensors(file, { names }).tensors;
      } catch (e) {
        safetensorsError(fn, e);
      }
      for (const [name, t] of tensors) out.set(name, t);
    }
  } catch (e) {
    for (const t of out.values()) t.dispose();
    for (const b of files) releaseFileBytes(b);
    throw e;
  }
  return { tensors: out, files };
}

/** The bytes a tensor views (to give a mapped file's pages back once they are copied). */
function bytesOf(t: Tensor): Uint8Array {
  const a = t.data() as ArrayBufferView;
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function scalarOf(t: Tensor): number {
  const raw = t.data()[0] as number;
  return t.dtype === "bf16" ? bf16BitsToNumber(raw) : t.dtype === "f16" ? f16BitsToNumber(raw) : raw;
}

function toF32(t: Tensor): Tensor<"f32"> {
  // The file's tensors record no gradients, so clone() puts nothing on the tape.
  return (t.dtype === "f32" ? t.clone() : t.to("f32")) as Tensor<"f32">;
}

/** The BitNetLM of a bf16 (master-weights) checkpoint already inspected. */
function buildLM(fn: string, dir: string, hf: HFConfig, checkpoint: Checkpoint): BitNetLM {
  const lm = new BitNetLM(hf.config);
  let tensors: Map<string, Tensor> | undefined;
  let files: Uint8Array[] = [];
  try {
    const params = new Map(lm.namedParameters());
    // inspect() checked the names against the config; this guards the two name lists agreeing.
    for (const name of params.keys()) if (!checkpoint.entries.has(name)) throw new Error(`${fn}: internal: BitNetLM parameter '${name}' has no tensor in the checkpoint`);
    const read = readTensors(fn, checkpoint);
    tensors = read.tensors;
    files = read.files;
    // One tensor at a time, each file tensor freed once copied: the peak is the model plus the file.
    for (const [name, t] of tensors) {
      const f = toF32(t);
      try {
        params.get(name)!.data().set(f.data() as Float32Array);
      } finally {
        f.dispose();
        t.dispose();
      }
    }
    return lm;
  } catch (e) {
    lm.dispose();
    throw e;
  } finally {
    if (tensors) for (const t of tensors.values()) t.dispose();
    for (const b of files) releaseFileBytes(b);
  }
}

/**
 * Loads a Hugging Face BitNet `-bf16` checkpoint (master weights: plain [out, in] projections,
 * no weight_scale) as a BitNetLM whose every parameter holds the file's value (bf16 -> f32), in
 * training mode, ready for a Trainer to fine-tune. A packed checkpoint is refused: its ternary
 * codes and scales are not the latent weights.
 *
 * @throws HFFormatError naming the file, the field or tensor and the problem (config.json values
 *   bitnet-lab cannot run, missing/extra/reshaped tensors, truncated files, a packed checkpoint);
 *   Error when a file cannot be read.
 */
export function loadHFBitNetLM(dir: string): BitNetLM {
  const fn = "loadHFBitNetLM";
  const { hf, checkpoint, packed } = inspect(fn, dir);
  if (packed) throw new HFFormatError(`${fn}: '${dir}' holds packed ternary projections (uint8 + weight_scale); a BitNetLM to train needs the -bf16 master weights (loadHFBitNet reads packed checkpoints for inference)`);
  return buildLM(fn, dir, hf, checkpoint);
}

/**
 * Loads a Hugging Face BitNet checkpoint directory (config.json, model.safetensors or a sharded
 * model.safetensors.index.json, optionally tokenizer.json) for inference.
 *
 * Packed checkpoints: each projection's uint8 [out/4, in] codes (every 2-bit code checked to be
 * 0, 1 or 2) are repacked to the kernels' tl256 layout at load, one tensor at a time. Its `weight_scale` is read per quantization_config.linear_class:
 * 'autobitlinear' multiplies (the scale is mean|W|), 'bitlinear' divides (the scale is
 * 1 / mean|W|); without linear_class, scales all below 1 multiply and all above 1 divide (trained
 * weights have mean|W| far below 1), a decision logged once with console.warn. `-bf16`
 * checkpoints are quantized the way packModel does it (absmean per tensor).
 *
 * The embeddings (and an untied head) are stored in `opts` formats, 'bf16' by default: a bf16
 * file tensor is used without a copy; a tied head is the embedding object itself when both
 * formats agree. Norms become f32.
 *
 * @throws HFFormatError naming the file, the field or tensor and the problem: config.json values
 *   bitnet-lab cannot run, a missing, extra or reshaped tensor, a weight_scale that is 0,
 *   negative, NaN or infinite (or scales on both sides of 1 without linear_class), an invalid
 *   code, a truncated or malformed file, a tokenizer.json with more ids than vocab_size; Error
 *   when a file cannot be read.
 */
export function loadHFBitNet(dir: string, opts: LoadHFBitNetOptions = {}): HFBitNet {
  const fn = "loadHFBitNet";
  if (!isObject(opts)) throw new TypeError(`${fn}: opts must be an object like { headFormat }, received ${describe(opts)}`);
  const headFormat = checkDenseFormat(fn, "opts.headFormat", opts.headFormat ?? "bf16");
  const embeddingFormat = checkDenseFormat(fn, "opts.embeddingFormat", opts.embeddingFormat ?? headFormat);
  const map = opts.map;
  if (map !== undefined && typeof map !== "boolean") throw new TypeError(`${fn}: opts.map must be a boolean, received ${describe(map)}`);
  const { hf, checkpoint, packed, configFile } = inspect(fn, dir);
  const c = hf.config;

  let tokenizer: HFTokenizer | undefined;
  const tokenizerFile = path.join(dir, "tokenizer.json");
  if (fs.existsSync(tokenizerFile)) {
    tokenizer = HFTokenizer.fromFile(tokenizerFile);
    if (tokenizer.vocabSize > c.vocab_size) throw new HFFormatError(`${fn}: '${tokenizerFile}' has ${tokenizer.vocabSize} ids, more than config.json's vocab_size ${c.vocab_size}`);
  }

  if (!packed) {
    const lm = buildLM(fn, dir, hf, checkpoint);
    try {
      const model = packModel(lm, { headFormat, embeddingFormat });
      return tokenizer ? { model, config: model.config, tokenizer } : { model, config: model.config };
    } finally {
      lm.dispose();
    }
  }

  const { tensors, files } = readTensors(fn, checkpoint, map);
  const made: { dispose(): void }[] = [];
  const track = <T extends { dispose(): void }>(x: T): T => (made.push(x), x);
  const take = (name: string): Tensor => tensors.get(name) as Tensor;
  try {
    // Scale direction first: without linear_class every scale must agree on it.
    const scales = new Map<string, number>();
    for (const name of tensors.keys()) {
      if (!name.endsWith(".weight_scale")) continue;
      const s = scalarOf(take(name));
      if (!(Number.isFinite(s) && s > 0)) throw new HFFormatError(`${fn}: '${checkpoint.entries.get(name)!.file}' tensor '${name}' is ${s}, expected a finite positive scale`);
      scales.set(name, s);
    }
    let divide = hf.linearClass === "bitlinear";
    if (hf.linearClass === null) {
      const below = [...scales].find(([, s]) => s < 1);
      const above = [...scales].find(([, s]) => s > 1);
      if (below && above) {
        throw new HFFormatError(`${fn}: '${configFile}' has no quantization_config.linear_class and the weight_scale values lie on both sides of 1 ('${below[0]}' = ${below[1]}, '${above[0]}' = ${above[1]}), so whether they multiply or divide is unknown; add linear_class`);
      }
      divide = above !== undefined;
      console.warn(
        `${fn}: '${configFile}' has no quantization_config.linear_class; every weight_scale is ${divide ? "above 1, read as 1 / mean|W| (dividing, as 'bitlinear')" : "at most 1, read as mean|W| (multiplying, as 'autobitlinear')"}`,
      );
    }

    const layers: PackedLayer[] = [];
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const at = `model.layers.${i}`;
      const proj = (key: ProjectionKey, name: string): PackedTernary => {
        const [n, k] = projectionShape(c, key);
        const full = `${at}.${name}.weight`;
        const data = take(full) as Tensor<"u8">;
        const bytes = data.data();
        const byte = findInvalidTernaryCode(bytes);
        if (byte >= 0) {
          const marks = bytes[byte] & (bytes[byte] >> 1) & 0x55;
          let field = 0; // bits 2f, 2f + 1: the first set in row order
          while (!(marks & (1 << (2 * field)))) field++;
          const r = Math.floor(byte / k);
          throw new HFFormatError(
            `${fn}: '${checkpoint.entries.get(full)!.file}' tensor '${full}' byte [${r}, ${byte % k}] bits ${2 * field}-${2 * field + 1} (weight [${field * (n / 4) + r}, ${byte % k}]) holds the code 3, expected 0, 1 or 2 (-1, 0, +1)`,
          );
        }
        const s = scales.get(`${full}_scale`) as number;
        const scale = Tensor.empty([1], "f32", false, fn);
        scale.data()[0] = divide ? 1 / s : s;
        // Repacked to the kernels' layout now, and the file's copy freed: the weights are held
        // once (keeping the "hf" bytes would add a tl256 copy on first use).
        const view = data.reshape([data.numel]);
        let codes: Tensor<"i8"> | null = null;
        try {
          codes = unpackTernary(new PackedTernary("hf", [n, k], view, scale));
          return track(packTernary(codes, { layout: "tl256", scale }));
        } finally {
          codes?.dispose();
          releaseFilePages(bytesOf(data));
          view.dispose();
          data.dispose();
          scale.dispose(); // packTernary keeps a copy
        }
      };
      const norm = (name: string): Tensor<"f32"> => track(toF32(take(`${at}.${name}.weight`)));
      layers.push({
        inputNorm: norm("input_layernorm"),
        postAttentionNorm: norm("post_attention_layernorm"),
        attnSubNorm: norm("self_attn.attn_sub_norm"),
        ffnSubNorm: norm("mlp.ffn_sub_norm"),
        q: proj("q", "self_attn.q_proj"),
        k: proj("k", "self_attn.k_proj"),
        v: proj("v", "self_attn.v_proj"),
        o: proj("o", "self_attn.o_proj"),
        gate: proj("gate", "mlp.gate_proj"),
        up: proj("up", "mlp.up_proj"),
        down: proj("down", "mlp.down_proj"),
      });
    }
    const dense = (t: Tensor, format: DenseFormat): DenseWeights => {
      const [rows, cols] = t.shape;
      const stored = format === "int8" ? null : format;
      // The file's own precision is used as read: no copy.
      if (t.dtype === stored) return track(new DenseWeights(format, rows, cols, t.detach()));
      return track(DenseWeights.from(t, format));
    };
    const embedding = dense(take("model.embed_tokens.weight"), embeddingFormat);
    const head = c.tie_word_embeddings
      ? headFormat === embeddingFormat
        ? embedding
        : dense(take("model.embed_tokens.weight"), headFormat)
      : dense(take("lm_head.weight"), headFormat);
    const model = new PackedModel(c, embedding, layers, track(toF32(take("model.norm.weight"))), head);
    // The embedding (and head) may be views of a mapped file: unmapped with the model.
    model.addDisposer(() => files.forEach(releaseFileBytes));
    return tokenizer ? { model, config: c, tokenizer } : { model, config: c };
  } catch (e) {
    for (const x of made) x.dispose();
    for (const b of files) releaseFileBytes(b);
    throw e;
  } finally {
    // The model holds views (reshape/detach) of what it kept; the read tensors themselves go.
    for (const t of tensors.values()) t.dispose();
  }
}
