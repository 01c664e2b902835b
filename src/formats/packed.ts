// Our packed-model file: safetensors holding the packed ternary projections (u8, the kernels'
// tl256 layout) with their f32 scales under Hugging Face's tensor names, the f32 norms, embeddings
// and head, and the model config as JSON in the metadata. Loading checks every tensor's presence,
// dtype and shape against the config before anything is built.
import { resolveBitNetConfig, ResolvedBitNetConfig } from "../nn/bitnet";
import { PackedTernary, findInvalidTernaryCode, packedTernaryBytes, paddedCols } from "../quant";
import { DENSE_FORMATS, DenseFormat, DenseWeights } from "../quant/dense";
import { parseSafetensors, writeSafetensors } from "../io/safetensors";
import { readFileBytes, releaseFileBytes } from "../io/file-bytes";
import { tensorOverBytes } from "../io/views";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { PackedLayer, PackedModel } from "../infer/pack";
import { NORMS, PROJECTIONS, projectionShape } from "./layout";
import { FormatError } from "../errors";

const FORMAT = "bitnet-lab.packed";
const VERSION = "1";

/** Thrown for a file that is not a packed model of the expected layout. */
export class PackedModelFormatError extends FormatError {
  override name = "PackedModelFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("packed model", message, options);
  }
}

/** Writes a packed model (atomically: the file holds the old or the complete new model). */
export function savePackedModel(filePath: string, model: PackedModel): void {
  const fn = "savePackedModel";
  if (!(model instanceof PackedModel)) throw new TypeError(`${fn}: model must be a PackedModel, received ${describe(model)}`);
  if (model.disposed) throw new Error(`${fn}: the packed model was disposed`);
  const tensors = new Map<string, Tensor>();
  const putDense = (name: string, w: DenseWeights): void => {
    tensors.set(`${name}.weight`, w.data);
    if (w.scales) tensors.set(`${name}.weight_scale`, w.scales);
  };
  putDense("model.embed_tokens", model.embedding);
  model.layers.forEach((l, i) => {
    for (const [key, name] of NORMS) {
      const t = l[key];
      if (t) tensors.set(`model.layers.${i}.${name}.weight`, t);
    }
    for (const [key, name] of PROJECTIONS) {
      const p = l[key];
      if (!p) continue;
      tensors.set(`model.layers.${i}.${name}.weight`, p.data);
      tensors.set(`model.layers.${i}.${name}.weight_scale`, p.scale);
    }
  });
  tensors.set("model.norm.weight", model.norm);
  if (model.head !== model.embedding) putDense("lm_head", model.head);
  writeSafetensors(filePath, tensors, {
    format: FORMAT,
    version: VERSION,
    layout: "tl256",
    config: JSON.stringify(model.config),
    embedding_format: model.embedding.format,
    head_format: model.head.format,
    // A tied model stores its head separately when the two formats differ.
    head_stored: model.head === model.embedding ? "tied" : "separate",
  });
}

/**
 * Reads a packed model written by {@link savePackedModel}, checking it against its config. Files
 * of 64 MiB and more are memory-mapped and the model's tensors are views of the mapping (no copy;
 * pages load on first use), unmapped when the model is disposed. `opts.map` forces either way.
 */
export function loadPackedModel(filePath: string, opts: { map?: boolean } = {}): PackedModel {
  const fn = "loadPackedModel";
  if (typeof filePath !== "string" || filePath === "") throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
  if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  if (opts.map !== undefined && typeof opts.map !== "boolean") throw new TypeError(`${fn}: opts.map must be a boolean, received ${describe(opts.map)}`);
  const bytes = readFileBytes(filePath, fn, opts);
  try {
    const model = fromBytes(fn, filePath, bytes);
    model.addDisposer(() => releaseFileBytes(bytes));
    return model;
  } catch (e) {
    releaseFileBytes(bytes);
    throw e;
  }
}

function fromBytes(fn: string, filePath: string, bytes: Uint8Array): PackedModel {
  const where = `'${filePath}'`;
  const { header, data } = parseSafetensors(bytes, filePath);
  const meta = header.metadata;
  if (meta.format !== FORMAT) throw new PackedModelFormatError(`${fn}: ${where} is not a bitnet-lab packed model (metadata format ${describe(meta.format)}, expected '${FORMAT}')`);
  if (meta.version !== VERSION || meta.layout !== "tl256") {
    throw new PackedModelFormatError(`${fn}: ${where} has version ${describe(meta.version)} and layout ${describe(meta.layout)}; this build reads version ${VERSION}, layout 'tl256'`);
  }
  let config: ResolvedBitNetConfig;
  try {
    config = resolveBitNetConfig(JSON.parse(meta.config ?? "null"), `${fn}: ${where} config`);
  } catch (e) {
    throw new PackedModelFormatError(`${fn}: ${where} has no valid config: ${(e as Error).message}`);
  }
  if (config.linear !== "bitnet") throw new PackedModelFormatError(`${fn}: ${where} config has linear '${config.linear}', expected 'bitnet'`);
  const formatOf = (key: "embedding_format" | "head_format"): DenseFormat => {
    const f = meta[key] ?? "f32";
    if (!DENSE_FORMATS.includes(f as DenseFormat)) throw new PackedModelFormatError(`${fn}: ${where} metadata ${key} is ${describe(f)}, expected one of ${DENSE_FORMATS.join(", ")}`);
    return f as DenseFormat;
  };
  const embeddingFormat = formatOf("embedding_format");
  const headFormat = formatOf("head_format");
  const headStored = meta.head_stored ?? (config.tie_word_embeddings ? "tied" : "separate");
  if (headStored !== "tied" && headStored !== "separate") throw new PackedModelFormatError(`${fn}: ${where} metadata head_stored is ${describe(headStored)}, expected 'tied' or 'separate'`);
  if (headStored === "tied" && (!config.tie_word_embeddings || headFormat !== embeddingFormat)) {
    throw new PackedModelFormatError(`${fn}: ${where} stores its head tied to the embedding, but the config ${config.tie_word_embeddings ? `has head_format '${headFormat}' and embedding_format '${embeddingFormat}'` : "unties them"}`);
  }
  // Every expected tensor with its dtype and shape, checked against the header before reading.
  const expected = new Map<string, { dtype: string; shape: number[] }>();
  const d = config.hidden_size;
  const expectDense = (name: string, format: DenseFormat): void => {
    const dtype = format === "int8" ? "i8" : format;
    expected.set(`${name}.weight`, { dtype, shape: [config.vocab_size, format === "int8" ? paddedCols(d) : d] });
    if (format === "int8") expected.set(`${name}.weight_scale`, { dtype: "f32", shape: [config.vocab_size] });
  };
  expectDense("model.embed_tokens", embeddingFormat);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    expected.set(`model.layers.${i}.input_layernorm.weight`, { dtype: "f32", shape: [d] });
    expected.set(`model.layers.${i}.post_attention_layernorm.weight`, { dtype: "f32", shape: [d] });
    if (config.sub_norm) {
      expected.set(`model.layers.${i}.self_attn.attn_sub_norm.weight`, { dtype: "f32", shape: [d] });
      expected.set(`model.layers.${i}.mlp.ffn_sub_norm.weight`, { dtype: "f32", shape: [config.intermediate_size] });
    }
    for (const [key, name] of PROJECTIONS) {
      if (key === "gate" && !config.gated) continue;
      const [n, k] = projectionShape(config, key);
      expected.set(`model.layers.${i}.${name}.weight`, { dtype: "u8", shape: [packedTernaryBytes("tl256", n, k)] });
      expected.set(`model.layers.${i}.${name}.weight_scale`, { dtype: "f32", shape: [1] });
    }
  }
  expected.set("model.norm.weight", { dtype: "f32", shape: [d] });
  if (headStored === "separate") expectDense("lm_head", headFormat);
  for (const [name, want] of expected) {
    const got = header.tensors.get(name);
    if (!got) throw new PackedModelFormatError(`${fn}: ${where} has no tensor '${name}'`);
    if (got.dtype !== want.dtype || got.shape.length !== want.shape.length || got.shape.some((s, j) => s !== want.shape[j])) {
      throw new PackedModelFormatError(`${fn}: ${where} tensor '${name}' is ${got.fileDType} [${got.shape.join(", ")}], expected ${want.dtype} [${want.shape.join(", ")}]`);
    }
  }
  for (const name of header.tensors.keys()) if (!expected.has(name)) throw new PackedModelFormatError(`${fn}: ${where} has an unexpected tensor '${name}' for its config`);
  const tensors = new Map<string, Tensor>();
  const take = <T extends Tensor>(name: string): T => {
    let t = tensors.get(name);
    if (!t) {
      const info = header.tensors.get(name) as { dtype: Tensor["dtype"]; shape: readonly number[] };
      t = tensorOverBytes(data.get(name) as Uint8Array, info.dtype, info.shape);
      tensors.set(name, t);
    }
    return t as T;
  };
  try {
    const layers: PackedLayer[] = [];
    for (let i = 0; i < config.num_hidden_layers; i++) {
      const proj = (key: (typeof PROJECTIONS)[number][0], name: string): PackedTernary => {
        const scale = take<Tensor<"f32">>(`model.layers.${i}.${name}.weight_scale`);
        const s = scale.data()[0];
        if (!(Number.isFinite(s) && s > 0)) throw new PackedModelFormatError(`${fn}: ${where} tensor 'model.layers.${i}.${name}.weight_scale' must be a finite positive scale, received ${s}`);
        const packed = new PackedTernary("tl256", projectionShape(config, key), take(`model.layers.${i}.${name}.weight`), scale);
        // Every 2-bit code must be 0, 1 or 2: a corrupted byte would give wrong numbers silently.
        const bad = findInvalidTernaryCode(packed.data.data());
        if (bad >= 0) throw new PackedModelFormatError(`${fn}: ${where} tensor 'model.layers.${i}.${name}.weight' holds an invalid ternary code (3) in byte ${bad}`);
        return packed;
      };
      layers.push({
        inputNorm: take(`model.layers.${i}.input_layernorm.weight`),
        postAttentionNorm: take(`model.layers.${i}.post_attention_layernorm.weight`),
        attnSubNorm: config.sub_norm ? take<Tensor<"f32">>(`model.layers.${i}.self_attn.attn_sub_norm.weight`) : null,
        ffnSubNorm: config.sub_norm ? take<Tensor<"f32">>(`model.layers.${i}.mlp.ffn_sub_norm.weight`) : null,
        q: proj("q", "self_attn.q_proj"),
        k: proj("k", "self_attn.k_proj"),
        v: proj("v", "self_attn.v_proj"),
        o: proj("o", "self_attn.o_proj"),
        gate: config.gated ? proj("gate", "mlp.gate_proj") : null,
        up: proj("up", "mlp.up_proj"),
        down: proj("down", "mlp.down_proj"),
      });
    }
    const dense = (name: string, format: DenseFormat): DenseWeights => {
      try {
        return new DenseWeights(format, config.vocab_size, d, take(`${name}.weight`), format === "int8" ? take(`${name}.weight_scale`) : null);
      } catch (e) {
        throw new PackedModelFormatError(`${fn}: ${where} tensor '${name}.weight': ${(e as Error).message}`);
      }
    };
    const embedding = dense("model.embed_tokens", embeddingFormat);
    const head = headStored === "tied" ? embedding : dense("lm_head", headFormat);
    return new PackedModel(config, embedding, layers, take("model.norm.weight"), head);
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
}
