// Packed models to and from GGUF, the file format of bitnet.cpp (and llama.cpp).
//
// Export writes what bitnet.cpp v1.0 runs: architecture "bitnet" (SiLU-gated FFN, its v1.0
// graph) or "bitnet-b1.58" (ReLU^2, the 2B4T graph of newer builds), llama-style hyperparameter
// keys under that prefix, every projection as I2_S (x86 layout, one f32 scale per tensor),
// norms in F32 and the embedding (and an untied head) in its own float format. Each projection
// is converted to I2_S only when the writer reaches it, so a 2B-parameter model is never held
// twice in memory.
//
// Loading accepts those files and the other ternary encodings converters produce: I2_S, TQ2_0 /
// TQ1_0 (one scale per tensor, or per row), and F32/F16/BF16 matrices whose values are {-s, 0, s}
// (with an optional `.scale` tensor). Every tensor's presence, type and shape is checked against
// the hyperparameters before anything is built; I2_S codes, the embedding, the head and F32 norms
// stay views of the file's bytes.
//
// Tokenizers travel as byte-level BPE (tokenizer.ggml.model "gpt2"): GPT-2's byte-to-character
// map, tokens, merges and special ids. A character or byte tokenizer becomes a BPE vocabulary
// whose merges rebuild exactly its characters, and ggufTokenizerToJSON turns the metadata back
// into a Hugging Face tokenizer.json object.
import { ResolvedBitNetConfig, resolveBitNetConfig } from "../nn/bitnet";
import { PackedTernary, packTernary, unpackTernary } from "../quant";
import { DenseFormat, DenseWeights, checkDenseFormat } from "../quant/dense";
import { Tokenizer } from "../data/tokenizer";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import * as native from "../backend/kernels";
import { releaseFileBytes, releaseFilePages } from "../io/file-bytes";
import { HFTokenizer } from "../tokenizers/hf";
import { GGUFFile, GGUFTensorInfo, GGUFTensorInput, GGUFValue, readGGUF, writeGGUF, ggufString, ggufNumber, ggufArray } from "../io/gguf";
import {
  GGMLTypeName,
  GGUFFormatError,
  decodeI2S,
  decodeTQ1_0Ternary,
  decodeTQ2_0Ternary,
  dequantizeGGML,
  encodeI2S,
  BlockTernary,
} from "../io/ggml-types";
import { PackedLayer, PackedModel } from "../infer/pack";
import { NormKey, ProjectionKey, projectionShape } from "./layout";

import { HFTokenizerJSON, isObject, quote, vocabularyOf, ggufTokenizerToJSON } from "../tokenizers/gguf";

/** Options of {@link exportGGUF}. */
export interface ExportGGUFOptions {
  /**
   * The model's tokenizer, written as `tokenizer.ggml.*` byte-level BPE metadata (bitnet.cpp
   * needs it to run the file): a {@link CharTokenizer} or {@link ByteTokenizer} (or anything
   * whose toJSON() gives their JSON), or a byte-level BPE tokenizer.json object (or an object
   * whose toJSON() gives one). Its vocabulary must have exactly `config.vocab_size` tokens.
   */
  tokenizer?: Tokenizer | HFTokenizerJSON | { toJSON(): unknown };
  /**
   * `tokenizer.ggml.bos_token_id`. Default: the first special token of a tokenizer.json's
   * TemplateProcessing post-processor (then `add_bos_token` is true); character and byte
   * tokenizers have none. Without one, llama.cpp falls back to id 11 for a "gpt2" vocabulary.
   */
  bosTokenId?: number;
  /**
   * `tokenizer.ggml.eos_token_id`: where bitnet.cpp stops generating. No default (tokenizer.json
   * does not say); without one llama.cpp treats id 11 of a "gpt2" vocabulary as end of text.
   */
  eosTokenId?: number;
  /** `general.name` (default "bitnet-lab"). */
  name?: string;
}

/** Options of {@link loadGGUF}. */
export interface LoadGGUFOptions {
  /**
   * Storage of the LM head. Default: the stored format (F32 -> 'f32', F16 -> 'f16', BF16 ->
   * 'bf16'), kept as a view of the file. Another format is a converted copy (a tied head then
   * stores the matrix a second time; the embedding stays a view).
   */
  headFormat?: DenseFormat;
  /** Memory-map the file (default: from 64 MiB; see readFileBytes). */
  map?: boolean;
}

/** What {@link loadGGUF} returns. */
export interface LoadedGGUF {
  /** The model; its embedding, head, F32 norms and I2_S codes are views of the file's bytes. */
  model: PackedModel;
  /** The file's metadata, in file order. */
  metadata: ReadonlyMap<string, GGUFValue>;
  /** The tokenizer as a Hugging Face tokenizer.json object, when the file has a "gpt2" one. */
  tokenizerJSON?: HFTokenizerJSON;
  /**
   * That tokenizer, ready for an InferenceEngine, when HFTokenizer accepts it (byte-level BPE with
   * all 256 byte symbols, LLaMA-3's or GPT-2's split); see `tokenizerError` otherwise.
   */
  tokenizer?: HFTokenizer;
  /** Why `tokenizerJSON` could not be made a tokenizer. */
  tokenizerError?: string;
}

/** GGUF architectures bitnet-lab writes and reads, by feed-forward activation. */
const ARCH_BY_ACT = { silu: "bitnet", relu2: "bitnet-b1.58" } as const;
/** `general.file_type` of a file whose matrices are I2_S (llama.cpp's MOSTLY_I2_S). */
const FILE_TYPE_I2S = 40;
const ALIGNMENT = 32;


const PROJECTIONS: readonly [ProjectionKey, string][] = [
  ["q", "attn_q"],
  ["k", "attn_k"],
  ["v", "attn_v"],
  ["o", "attn_output"],
  ["gate", "ffn_gate"],
  ["up", "ffn_up"],
  ["down", "ffn_down"],
];
const NORMS: readonly [NormKey, string][] = [
  ["inputNorm", "attn_norm"],
  ["postAttentionNorm", "ffn_norm"],
  ["attnSubNorm", "attn_sub_norm"],
  ["ffnSubNorm", "ffn_sub_norm"],
];

function normWidth(c: ResolvedBitNetConfig, which: NormKey): number {
  return which === "ffnSubNorm" ? c.intermediate_size : c.hidden_size;
}

/** The bytes of a typed array (a view, no copy). */
function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}


// ---------------------------------------------------------------------------------------------
// Export

/** The GGUF tensor of a dense matrix: its own float format as a view, int8 converted to F16. */
function denseTensor(name: string, w: DenseWeights): GGUFTensorInput {
  const shape = [w.rows, w.cols];
  switch (w.format) {
    case "f32":
      return { name, type: "F32", shape, data: bytesOf(w.data.data()) };
    case "f16":
      return { name, type: "F16", shape, data: bytesOf(w.data.data()) };
    case "bf16":
      return { name, type: "BF16", shape, data: bytesOf(w.data.data()) };
    case "int8":
      // GGUF's I8 has no per-row scales, so int8 rows go out dequantized as F16 (q / s is the
      // value the head used, rounded to half precision). Made lazily, a block of rows at a time.
      return {
        name,
        type: "F16",
        shape,
        data: () => {
          const out = new Uint16Array(w.rows * w.cols);
          const rowsPerBlock = Math.max(1, Math.floor((1 << 20) / w.cols));
          const buf = new Float32Array(rowsPerBlock * w.cols);
          for (let r = 0; r < w.rows; r += rowsPerBlock) {
            const r1 = Math.min(w.rows, r + rowsPerBlock);
            for (let i = r; i < r1; i++) w.readRow(i, buf, (i - r) * w.cols);
            native.convert(buf.subarray(0, (r1 - r) * w.cols), "f32", out.subarray(r * w.cols, r1 * w.cols), "f16");
          }
          return bytesOf(out);
        },
      };
  }
}

/**
 * Writes a packed model as a GGUF v3 file that bitnet.cpp v1.0 runs (atomically: the file holds
 * the old or the complete new model).
 *
 * - `general.architecture` is "bitnet" for hidden_act "silu" (bitnet.cpp v1.0's graph gates the
 *   FFN with SiLU) and "bitnet-b1.58" for "relu2" (the 2B4T graph of newer builds); the
 *   hyperparameters go under that prefix (`<arch>.context_length` = max_position_embeddings,
 *   `.embedding_length`, `.block_count`, `.feed_forward_length`, `.vocab_size`,
 *   `.attention.head_count`, `.attention.head_count_kv`, `.rope.dimension_count` (head_dim),
 *   `.rope.freq_base`, `.attention.layer_norm_rms_epsilon`), with `general.name`,
 *   `general.file_type` 40 (MOSTLY_I2_S) and `general.alignment` 32.
 * - Projections are I2_S (x86 layout: the ternary codes and the f32 per-tensor scale, which
 *   bitnet.cpp multiplies the integer dot by); q and k need no permutation (bitnet's RoPE is
 *   NEOX style, the rotate-half convention of this lab and of Hugging Face).
 * - Norms are F32; `token_embd.weight` is in the embedding's format (f32 -> F32, f16 -> F16,
 *   bf16 -> BF16; int8, which GGUF cannot store with its row scales, goes out dequantized as
 *   F16). An untied head is `output.weight` in the same way; a tied model writes the embedding
 *   only (bitnet.cpp then uses it as the head, even when this PackedModel keeps the head in
 *   another format).
 * - With `opts.tokenizer`, `tokenizer.ggml.*` byte-level BPE metadata (see
 *   {@link ExportGGUFOptions.tokenizer}); bitnet.cpp needs it to load the file.
 *
 * Tensor data is streamed: each projection is converted to I2_S when the writer reaches it.
 *
 * @throws TypeError for arguments of the wrong kind; RangeError, before the file is touched,
 *   for a model bitnet.cpp cannot run (no SubLN norms, an ungated FFN, per-row weight scales
 *   (I2_S has one scale per tensor), rows not a multiple of 128 weights (the I2_S block)) or a
 *   tokenizer that does not fit (naming the tensor or token); Error naming the file when the
 *   write fails.
 */
export function exportGGUF(model: PackedModel, filePath: string, opts: ExportGGUFOptions = {}): void {
  const fn = "exportGGUF";
  if (!(model instanceof PackedModel)) throw new TypeError(`${fn}: model must be a PackedModel, received ${describe(model)}`);
  if (model.disposed) throw new Error(`${fn}: the packed model was disposed`);
  if (typeof filePath !== "string" || filePath === "") throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  if (!isObject(opts)) throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  const c = model.config;
  if (!c.sub_norm) throw new RangeError(`${fn}: bitnet.cpp's bitnet graphs need SubLN (attn_sub_norm, ffn_sub_norm); this model has sub_norm: false`);
  if (!c.gated) throw new RangeError(`${fn}: bitnet.cpp's bitnet graphs need a gated FFN (ffn_gate); this model has gated: false`);
  const arch = ARCH_BY_ACT[c.hidden_act];
  const name = opts.name ?? "bitnet-lab";
  if (typeof name !== "string") throw new TypeError(`${fn}: opts.name must be a string, received ${describe(name)}`);

  const tensors: GGUFTensorInput[] = [denseTensor("token_embd.weight", model.embedding), normTensor("output_norm.weight", model.norm)];
  if (!c.tie_word_embeddings) tensors.push(denseTensor("output.weight", model.head));
  model.layers.forEach((layer, i) => {
    const at = `blk.${i}`;
    const proj = (key: ProjectionKey, gname: string): GGUFTensorInput => projectionTensor(fn, `${at}.${gname}.weight`, layer[key] as PackedTernary);
    const norm = (key: NormKey, gname: string): GGUFTensorInput => normTensor(`${at}.${gname}.weight`, layer[key] as Tensor<"f32">);
    tensors.push(
      norm("inputNorm", "attn_norm"),
      proj("q", "attn_q"),
      proj("k", "attn_k"),
      proj("v", "attn_v"),
      norm("attnSubNorm", "attn_sub_norm"),
      proj("o", "attn_output"),
      norm("postAttentionNorm", "ffn_norm"),
      proj("gate", "ffn_gate"),
      proj("up", "ffn_up"),
      norm("ffnSubNorm", "ffn_sub_norm"),
      proj("down", "ffn_down"),
    );
  });

  const u32 = (value: number): GGUFValue => ({ type: "u32", value });
  const f32 = (value: number): GGUFValue => ({ type: "f32", value });
  const metadata = new Map<string, GGUFValue>([
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: name }],
    ["general.file_type", u32(FILE_TYPE_I2S)],
    ["general.alignment", u32(ALIGNMENT)],
    [`${arch}.vocab_size`, u32(c.vocab_size)],
    [`${arch}.context_length`, u32(c.max_position_embeddings)],
    [`${arch}.embedding_length`, u32(c.hidden_size)],
    [`${arch}.block_count`, u32(c.num_hidden_layers)],
    [`${arch}.feed_forward_length`, u32(c.intermediate_size)],
    [`${arch}.attention.head_count`, u32(c.num_attention_heads)],
    [`${arch}.attention.head_count_kv`, u32(c.num_key_value_heads)],
    [`${arch}.rope.dimension_count`, u32(c.hidden_size / c.num_attention_heads)],
    [`${arch}.rope.freq_base`, f32(c.rope_theta)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(c.rms_norm_eps)],
  ]);
  if (opts.tokenizer !== undefined) {
    const v = vocabularyOf(fn, opts.tokenizer, c.vocab_size);
    const special = (key: "bosTokenId" | "eosTokenId", fallback: number | undefined): number | undefined => {
      const id = opts[key] ?? fallback;
      if (id !== undefined && (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= c.vocab_size)) {
        throw new RangeError(`${fn}: opts.${key} must be a token id in [0, ${c.vocab_size}), received ${describe(id)}`);
      }
      return id;
    };
    const bos = special("bosTokenId", v.bos);
    const eos = special("eosTokenId", undefined);
    metadata.set("tokenizer.ggml.model", { type: "string", value: "gpt2" });
    metadata.set("tokenizer.ggml.pre", { type: "string", value: v.pre });
    metadata.set("tokenizer.ggml.tokens", { type: "array", elementType: "string", value: v.tokens });
    metadata.set("tokenizer.ggml.token_type", { type: "array", elementType: "i32", value: v.tokenTypes });
    metadata.set("tokenizer.ggml.merges", { type: "array", elementType: "string", value: v.merges });
    if (bos !== undefined) metadata.set("tokenizer.ggml.bos_token_id", u32(bos));
    if (eos !== undefined) metadata.set("tokenizer.ggml.eos_token_id", u32(eos));
    metadata.set("tokenizer.ggml.add_bos_token", { type: "bool", value: v.addBos && bos !== undefined });
  } else if (opts.bosTokenId !== undefined || opts.eosTokenId !== undefined) {
    throw new TypeError(`${fn}: opts.bosTokenId and opts.eosTokenId belong to a tokenizer; pass opts.tokenizer too`);
  }
  writeGGUF(filePath, { metadata, tensors });
}

function normTensor(name: string, t: Tensor<"f32">): GGUFTensorInput {
  return { name, type: "F32", shape: [t.numel], data: bytesOf(t.toFloat32Array()) };
}

/** A projection as I2_S, checked now and converted when written. */
function projectionTensor(fn: string, name: string, p: PackedTernary): GGUFTensorInput {
  const [n, k] = p.shape;
  if (p.scale.numel !== 1) {
    throw new RangeError(`${fn}: tensor ${quote(name)} has per-row weight scales (${p.scale.numel} of them); I2_S stores one scale per tensor`);
  }
  if (k % 128 !== 0) {
    throw new RangeError(`${fn}: tensor ${quote(name)} [${n}, ${k}] has rows of ${k} weights; I2_S (x86) packs rows in blocks of 128, so k must be a multiple of 128`);
  }
  const scale = p.scale.data()[0];
  return {
    name,
    type: "I2_S",
    shape: [n, k],
    data: () => {
      const codes = unpackTernary(p);
      try {
        return encodeI2S(codes.data(), n, k, scale);
      } finally {
        codes.dispose();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Loading

/** A float32 value read from the file as the shortest decimal that rounds to it (1e-5 stays 1e-5). */
function f32Decimal(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return x;
  }
  return v;
}

const PROJECTION_TYPES: readonly GGMLTypeName[] = ["I2_S", "TQ2_0", "TQ1_0", "F32", "F16", "BF16"];
const FLOAT_TYPES: readonly GGMLTypeName[] = ["F32", "F16", "BF16"];
const DENSE_OF: Partial<Record<GGMLTypeName, "f32" | "f16" | "bf16">> = { F32: "f32", F16: "f16", BF16: "bf16" };

interface Expected {
  readonly shape: readonly number[];
  readonly types: readonly GGMLTypeName[];
}

/**
 * One scale for ternary codes with per-block scales: the tensor's, or one per row, else an
 * error. Blocks whose codes are all zero carry no scale (ggml writes d = 0 there).
 */
function commonScale(t: BlockTernary, n: number, k: number, fail: (m: string) => never): number | Float32Array {
  const blocks = t.scales.length;
  const used = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) {
    for (let j = b * 256; j < (b + 1) * 256; j++) {
      if (t.codes[j] !== 0) {
        used[b] = 1;
        break;
      }
    }
    if (used[b] && !(Number.isFinite(t.scales[b]) && t.scales[b] > 0)) fail(`block ${b} has the scale ${t.scales[b]}, expected a finite positive number`);
  }
  let first = -1;
  let uniform = true;
  for (let b = 0; b < blocks; b++) {
    if (!used[b]) continue;
    if (first < 0) first = b;
    else if (t.scales[b] !== t.scales[first]) uniform = false;
  }
  if (first < 0) return 1;
  if (uniform) return t.scales[first];
  // Blocks run along rows (k is a multiple of 256): one scale per row when each row agrees.
  const perRow = k / 256;
  const rows = new Float32Array(n).fill(t.scales[first]);
  for (let r = 0; r < n; r++) {
    let rowFirst = -1;
    for (let b = r * perRow; b < (r + 1) * perRow; b++) {
      if (!used[b]) continue;
      if (rowFirst < 0) rowFirst = b;
      else if (t.scales[b] !== t.scales[rowFirst]) {
        fail(`row ${r} has blocks with the scales ${t.scales[rowFirst]} (block ${rowFirst}) and ${t.scales[b]} (block ${b}); bitnet-lab's kernels take one scale per tensor or per row`);
      }
    }
    if (rowFirst >= 0) rows[r] = t.scales[rowFirst];
  }
  return rows;
}

/** Ternary codes and the one magnitude of a float matrix whose values are all 0 or ±s. */
function floatTernary(values: Float32Array, k: number, fail: (m: string) => never): { codes: Int8Array; scale: number } {
  const codes = new Int8Array(values.length);
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 0) continue;
    const a = Math.abs(v);
    if (s === 0) {
      if (!Number.isFinite(a)) fail(`is not ternary: element [${Math.floor(i / k)}, ${i % k}] is ${v}`);
      s = a;
    } else if (a !== s) {
      fail(`is not ternary: element [${Math.floor(i / k)}, ${i % k}] is ${v}, but the tensor's first nonzero magnitude is ${s}; expected every value to be 0 or ±${s}`);
    }
    codes[i] = v > 0 ? 1 : -1;
  }
  return { codes, scale: s === 0 ? 1 : s };
}

/** A typed-array view of tensor data when it is aligned for the element size, else a copy. */
function typedView<T extends Float32Array | Uint16Array>(Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }, data: Uint8Array): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % size === 0) return new Ctor(data.buffer, data.byteOffset, data.length / size);
  const copy = new Ctor(data.length / size);
  bytesOf(copy).set(data);
  return copy;
}

/**
 * Reads a GGUF model of architecture "bitnet" (hidden_act "silu") or "bitnet-b1.58" ("relu2")
 * into a PackedModel.
 *
 * The config comes from the llama-style keys under the architecture's prefix (embedding_length,
 * feed_forward_length, block_count, attention.head_count, attention.head_count_kv (default
 * head_count), context_length, attention.layer_norm_rms_epsilon, rope.freq_base (default 10000;
 * f32 values read back as their shortest decimal, so 1e-5 is 1e-5), rope.dimension_count (must be
 * embedding_length / head_count when present), vocab_size (must match token_embd when present));
 * vocab_size from token_embd; SubLN from the presence of `blk.0.attn_sub_norm.weight`, the gate
 * from `blk.0.ffn_gate.weight`, tie_word_embeddings from the absence of `output.weight`.
 *
 * Then every tensor is checked (presence, ggml type, shape; nothing unexpected) before any is
 * converted:
 * - projections: I2_S (x86 layout) repacked to the kernels' tl256 layout at load (a mapped file's
 *   pages of them are then given back, so the weights are held once);
 *   TQ2_0 / TQ1_0 when every block of the tensor (or of each row) has the same scale (blocks of
 *   all-zero codes aside); F32/F16/BF16 when every value is 0 or ±s for one s. An optional
 *   `blk.N.<name>.scale` ([1], float) multiplies the projection's scale, as llama.cpp multiplies
 *   the output by it. TQ and float projections are repacked in the kernels' layout.
 * - norms: F32 as views of the file, F16/BF16 converted to f32.
 * - token_embd / output: F32, F16, BF16 as DenseWeights over the file's bytes (or converted to
 *   `opts.headFormat` for the head).
 *
 * With a "gpt2" tokenizer in the metadata, `tokenizerJSON` is its tokenizer.json (see
 * {@link ggufTokenizerToJSON}); other tokenizer models are left in `metadata`.
 *
 * @throws TypeError / RangeError for bad arguments; Error naming the file when it cannot be
 *   read; GGUFFormatError naming the file and the key or tensor for a file that breaks GGUF,
 *   another architecture, a missing or bad hyperparameter, a missing, extra, mistyped or
 *   reshaped tensor, a projection that is not ternary or whose block scales vary within a row,
 *   invalid codes or scales, or an inconsistent tokenizer.
 */
export function loadGGUF(filePath: string, opts: LoadGGUFOptions = {}): LoadedGGUF {
  const fn = "loadGGUF";
  if (typeof filePath !== "string" || filePath === "") throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  if (!isObject(opts)) throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  const headFormat = opts.headFormat === undefined ? undefined : checkDenseFormat(fn, "opts.headFormat", opts.headFormat);
  const map = opts.map;
  if (map !== undefined && typeof map !== "boolean") throw new TypeError(`${fn}: opts.map must be a boolean, received ${describe(map)}`);
  const file = readGGUF(filePath, { map });
  try {
    const loaded = fromFile(fn, filePath, file, headFormat);
    // The embedding, norms and I2_S codes are views of the file: unmapped with the model.
    loaded.model.addDisposer(() => releaseFileBytes(file.bytes));
    return loaded;
  } catch (e) {
    releaseFileBytes(file.bytes);
    throw e;
  }
}

function fromFile(fn: string, filePath: string, file: GGUFFile, headFormat: DenseFormat | undefined): LoadedGGUF {
  const where = `${fn}: ${quote(filePath)}`;
  const fail = (message: string): never => {
    throw new GGUFFormatError(`${where}: ${message}`);
  };
  // The getters' errors name the key; they are rethrown naming this function and the file.
  const keyed = <T>(read: () => T): T => {
    try {
      return read();
    } catch (e) {
      if (e instanceof GGUFFormatError) fail(e.message.replace(/^gguf\w+: '.*?': /s, ""));
      throw e;
    }
  };
  const meta = file.metadata;
  const arch = keyed(() => ggufString(file, "general.architecture"));
  const act = arch === "bitnet" ? "silu" : arch === "bitnet-b1.58" ? "relu2" : fail(`key 'general.architecture' is ${JSON.stringify(arch)}; bitnet-lab reads "bitnet" (SiLU FFN) and "bitnet-b1.58" (ReLU^2 FFN)`);
  const count = (key: string, fallback?: number): number => {
    const full = `${arch}.${key}`;
    if (!meta.has(full) && fallback !== undefined) return fallback;
    const v = keyed(() => ggufNumber(file, full));
    if (!Number.isSafeInteger(v) || v < 1) fail(`key ${quote(full)} is ${v}, expected a positive integer`);
    return v;
  };
  const real = (key: string, fallback?: number): number => {
    const full = `${arch}.${key}`;
    if (!meta.has(full) && fallback !== undefined) return fallback;
    const v = keyed(() => ggufNumber(file, full));
    if (!(Number.isFinite(v) && v > 0)) fail(`key ${quote(full)} is ${v}, expected a finite positive number`);
    return meta.get(full)?.type === "f32" ? f32Decimal(v) : v;
  };
  const scaling = meta.get(`${arch}.rope.scaling.type`);
  if (scaling !== undefined && !(scaling.type === "string" && scaling.value === "none")) {
    fail(`key '${arch}.rope.scaling.type' is ${scaling.type === "string" ? JSON.stringify(scaling.value) : scaling.type}; bitnet-lab's RoPE has no scaling`);
  }
  const d = count("embedding_length");
  const heads = count("attention.head_count");
  const kvHeads = count("attention.head_count_kv", heads);
  const ffn = count("feed_forward_length");
  const layerCount = count("block_count");
  const context = count("context_length");
  const eps = real("attention.layer_norm_rms_epsilon");
  const theta = real("rope.freq_base", 10000);
  if (meta.has(`${arch}.rope.dimension_count`)) {
    const rd = count("rope.dimension_count");
    if (rd * heads !== d) fail(`key '${arch}.rope.dimension_count' is ${rd}, expected the head size ${d} / ${heads} = ${d / heads} (bitnet-lab rotates whole heads)`);
  }
  const byName = new Map<string, GGUFTensorInfo>(file.tensors.map((t) => [t.name, t]));
  const embd = byName.get("token_embd.weight") ?? fail("has no tensor 'token_embd.weight'");
  if (embd.shape.length !== 2 || embd.shape[1] !== d) fail(`tensor 'token_embd.weight' has shape [${embd.shape.join(", ")}], expected [vocab_size, ${d}]`);
  const vocab = embd.shape[0];
  if (vocab < 1) fail("tensor 'token_embd.weight' has no rows");
  if (meta.has(`${arch}.vocab_size`) && count("vocab_size") !== vocab) fail(`key '${arch}.vocab_size' is ${count("vocab_size")}, but 'token_embd.weight' has ${vocab} rows`);
  if (meta.has("tokenizer.ggml.tokens")) {
    const n = keyed(() => ggufArray(file, "tokenizer.ggml.tokens", "string")).length;
    if (n !== vocab) fail(`key 'tokenizer.ggml.tokens' lists ${n} tokens, but 'token_embd.weight' has ${vocab} rows`);
  }
  // Each block has at least seven tensors: a block count beyond the tensors is a lie (and would
  // make the expectation loop below run for nothing).
  if (layerCount > file.tensors.length) fail(`key '${arch}.block_count' is ${layerCount}, but the file holds only ${file.tensors.length} tensors`);
  const subNorm = byName.has("blk.0.attn_sub_norm.weight");
  const gated = byName.has("blk.0.ffn_gate.weight");
  const tied = !byName.has("output.weight");
  let config: ResolvedBitNetConfig;
  try {
    config = resolveBitNetConfig({
      hidden_size: d,
      intermediate_size: ffn,
      num_hidden_layers: layerCount,
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      vocab_size: vocab,
      rope_theta: theta,
      rms_norm_eps: eps,
      hidden_act: act,
      tie_word_embeddings: tied,
      max_position_embeddings: context,
      linear: "bitnet",
      sub_norm: subNorm,
      gated,
    });
  } catch (e) {
    return fail(`its hyperparameters make no valid model: ${(e as Error).message}`);
  }

  // Every tensor the config implies, checked before anything is built.
  const expected = new Map<string, Expected>();
  expected.set("token_embd.weight", { shape: [vocab, d], types: FLOAT_TYPES });
  expected.set("output_norm.weight", { shape: [d], types: FLOAT_TYPES });
  if (!tied) expected.set("output.weight", { shape: [vocab, d], types: FLOAT_TYPES });
  for (let i = 0; i < layerCount; i++) {
    for (const [key, gname] of NORMS) {
      if ((key === "attnSubNorm" || key === "ffnSubNorm") && !subNorm) continue;
      expected.set(`blk.${i}.${gname}.weight`, { shape: [normWidth(config, key)], types: FLOAT_TYPES });
    }
    for (const [key, gname] of PROJECTIONS) {
      if (key === "gate" && !gated) continue;
      expected.set(`blk.${i}.${gname}.weight`, { shape: projectionShape(config, key), types: PROJECTION_TYPES });
      if (byName.has(`blk.${i}.${gname}.scale`)) expected.set(`blk.${i}.${gname}.scale`, { shape: [1], types: FLOAT_TYPES });
    }
  }
  for (const [name, want] of expected) {
    const t = byName.get(name) ?? fail(`has no tensor ${quote(name)} (expected ${want.types.join("/")} [${want.shape.join(", ")}] for its hyperparameters)`);
    if (!want.types.includes(t.typeName)) fail(`tensor ${quote(name)} has type ${t.typeName}, expected ${want.types.join(", ")}`);
    if (t.shape.length !== want.shape.length || t.shape.some((s, j) => s !== want.shape[j])) {
      fail(`tensor ${quote(name)} has shape [${t.shape.join(", ")}], expected [${want.shape.join(", ")}]`);
    }
  }
  for (const t of file.tensors) if (!expected.has(t.name)) fail(`has an unexpected tensor ${quote(t.name)} for its hyperparameters (${layerCount} blocks${subNorm ? "" : ", no SubLN"}${gated ? "" : ", no gate"})`);

  const tokenizerJSON = meta.get("tokenizer.ggml.model")?.type === "string" && (meta.get("tokenizer.ggml.model") as { value: string }).value === "gpt2" ? ggufTokenizerToJSON(file) : undefined;

  const owned: { dispose(): void }[] = [];
  const own = <T extends { dispose(): void }>(x: T): T => (owned.push(x), x);
  try {
    const get = (name: string): GGUFTensorInfo => byName.get(name) as GGUFTensorInfo;
    const floatValues = (t: GGUFTensorInfo): Float32Array => dequantizeGGML(t.type, t.data, t.shape, t.name);
    const norm = (name: string): Tensor<"f32"> => {
      const t = get(name);
      const values = t.typeName === "F32" ? typedView(Float32Array, t.data) : floatValues(t);
      return own(Tensor.wrap(values, [values.length], "f32"));
    };
    const extraScale = (name: string): number => {
      const t = byName.get(name);
      if (t === undefined) return 1;
      const s = floatValues(t)[0];
      if (!(Number.isFinite(s) && s > 0)) fail(`tensor ${quote(name)} is ${s}, expected a finite positive scale`);
      return s;
    };
    const projection = (name: string, scaleName: string, [n, k]: [number, number]): PackedTernary => {
      const t = get(name);
      const bad = (m: string): never => fail(`tensor ${quote(name)} (${t.typeName} [${n}, ${k}]) ${m}`);
      const extra = extraScale(scaleName);
      const wrapped = <T>(decode: () => T): T => {
        try {
          return decode();
        } catch (e) {
          if (e instanceof GGUFFormatError) bad(e.message.replace(/^\w+: '.*?': /s, ""));
          throw e;
        }
      };
      if (t.typeName === "I2_S") {
        // Repacked to the kernels' layout now, and the file's pages of it given back: a mapped
        // model holds its ternary weights once (the embedding and norms stay views of the file).
        const { packed, scale } = wrapped(() => decodeI2S(t.data, n, k, name));
        let codes: Tensor<"i8"> | null = null;
        try {
          codes = unpackTernary(packed);
          return own(packTernary(codes, { layout: "tl256", scale: scale * extra }));
        } finally {
          codes?.dispose();
          packed.dispose();
          releaseFilePages(t.data);
        }
      }
      let codes: Int8Array;
      let scale: number | Float32Array;
      if (t.typeName === "TQ2_0" || t.typeName === "TQ1_0") {
        const blocks = wrapped(() => (t.typeName === "TQ2_0" ? decodeTQ2_0Ternary : decodeTQ1_0Ternary)(t.data, n * k, name));
        codes = blocks.codes;
        scale = commonScale(blocks, n, k, (m) => bad(m));
      } else {
        ({ codes, scale } = floatTernary(floatValues(t), k, (m) => bad(m)));
      }
      const w = Tensor.wrap(codes, [n, k], "i8");
      let scaleTensor: Tensor<"f32"> | undefined;
      try {
        if (typeof scale === "number") return own(packTernary(w, { layout: "tl256", scale: scale * extra }));
        const rows = scale.map((x) => x * extra);
        scaleTensor = Tensor.wrap(rows, [n], "f32");
        return own(packTernary(w, { layout: "tl256", scale: scaleTensor }));
      } finally {
        w.dispose();
        scaleTensor?.dispose();
      }
    };
    const dense = (name: string): DenseWeights => {
      const t = get(name);
      const format = DENSE_OF[t.typeName] as "f32" | "f16" | "bf16";
      const values = format === "f32" ? typedView(Float32Array, t.data) : typedView(Uint16Array, t.data);
      return own(new DenseWeights(format, vocab, d, Tensor.wrap(values, [vocab, d], format)));
    };
    const converted = (w: DenseWeights, format: DenseFormat): DenseWeights => own(DenseWeights.from(w.data, format));

    const layers: PackedLayer[] = [];
    for (let i = 0; i < layerCount; i++) {
      const at = `blk.${i}`;
      const proj = (key: ProjectionKey, gname: string): PackedTernary => projection(`${at}.${gname}.weight`, `${at}.${gname}.scale`, projectionShape(config, key));
      layers.push({
        inputNorm: norm(`${at}.attn_norm.weight`),
        postAttentionNorm: norm(`${at}.ffn_norm.weight`),
        attnSubNorm: subNorm ? norm(`${at}.attn_sub_norm.weight`) : null,
        ffnSubNorm: subNorm ? norm(`${at}.ffn_sub_norm.weight`) : null,
        q: proj("q", "attn_q"),
        k: proj("k", "attn_k"),
        v: proj("v", "attn_v"),
        o: proj("o", "attn_output"),
        gate: gated ? proj("gate", "ffn_gate") : null,
        up: proj("up", "ffn_up"),
        down: proj("down", "ffn_down"),
      });
    }
    const embedding = dense("token_embd.weight");
    let head: DenseWeights;
    if (tied) {
      head = headFormat === undefined || headFormat === embedding.format ? embedding : converted(embedding, headFormat);
    } else {
      const stored = dense("output.weight");
      head = stored;
      if (headFormat !== undefined && headFormat !== stored.format) {
        head = converted(stored, headFormat);
        stored.dispose();
      }
    }
    const model = new PackedModel(config, embedding, layers, norm("output_norm.weight"), head);
    if (tokenizerJSON === undefined) return { model, metadata: meta };
    try {
      const tokenOf = (key: string): string | undefined => {
        const id = meta.get(key);
        const vocab = (tokenizerJSON as { model?: { vocab?: Record<string, number> } }).model?.vocab ?? {};
        const added = ((tokenizerJSON as { added_tokens?: { id: number; content: string }[] }).added_tokens ?? []).map((t) => [t.content, t.id] as const);
        if (id === undefined || typeof id.value !== "number") return undefined;
        return [...Object.entries(vocab), ...added].find(([, v]) => v === id.value)?.[0];
      };
      const tokenizer = HFTokenizer.fromJSON(tokenizerJSON, { bosToken: tokenOf("tokenizer.ggml.bos_token_id"), eosToken: tokenOf("tokenizer.ggml.eos_token_id") });
      return { model, metadata: meta, tokenizerJSON, tokenizer };
    } catch (e) {
      return { model, metadata: meta, tokenizerJSON, tokenizerError: (e as Error).message };
    }
  } catch (e) {
    for (const x of owned) x.dispose();
    throw e;
  }
}
