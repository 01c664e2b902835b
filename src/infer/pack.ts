// From a trained BitNetLM to an inference model: every BitLinear projection quantized once
// (absmean ternary, per tensor, exactly as the training forward does it) and packed 2 bits a
// weight in the kernels' layout with its scale; norms, embeddings and the head copied in f32.
import { BitNetLM, ResolvedBitNetConfig } from "../nn/bitnet";
import { BitLinear } from "../nn/layers";
import { PackedTernary, packTernary, quantizeWeightsTernary } from "../quant";
import { DenseFormat, DenseWeights, checkDenseFormat } from "../quant/dense";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";

/** One decoder block, packed. */
export interface PackedLayer {
  inputNorm: Tensor<"f32">;
  postAttentionNorm: Tensor<"f32">;
  /** RMSNorm weight before o_proj (null without SubLN). */
  attnSubNorm: Tensor<"f32"> | null;
  /** RMSNorm weight before down_proj (null without SubLN). */
  ffnSubNorm: Tensor<"f32"> | null;
  q: PackedTernary;
  k: PackedTernary;
  v: PackedTernary;
  o: PackedTernary;
  /** Null for an ungated MLP. */
  gate: PackedTernary | null;
  up: PackedTernary;
  down: PackedTernary;
}

/** A BitNet b1.58 model ready for inference (see {@link packModel}). */
export class PackedModel {
  #disposed = false;
  #disposers: (() => void)[] = [];

  constructor(
    readonly config: ResolvedBitNetConfig,
    /** Token embeddings [vocab_size, hidden_size]. */
    readonly embedding: DenseWeights,
    readonly layers: readonly PackedLayer[],
    /** Final RMSNorm weight [hidden_size]. */
    readonly norm: Tensor<"f32">,
    /** LM head [vocab_size, hidden_size] (the embedding object itself when tied and stored once). */
    readonly head: DenseWeights,
  ) {}

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Bytes of packed weights, norms, embeddings and head. */
  get bytes(): number {
    let b = this.embedding.bytes + this.norm.nbytes + (this.head === this.embedding ? 0 : this.head.bytes);
    for (const l of this.layers) {
      for (const n of [l.inputNorm, l.postAttentionNorm, l.attnSubNorm, l.ffnSubNorm]) b += n?.nbytes ?? 0;
      for (const p of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) b += p ? p.data.nbytes + p.scale.nbytes : 0;
    }
    return b;
  }

  /**
   * Runs `release` when the model is disposed, after its tensors: loaders use it to unmap the
   * file their tensors view.
   */
  addDisposer(release: () => void): void {
    if (this.#disposed) release();
    else this.#disposers.push(release);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const tensors: Tensor[] = [this.norm];
    this.embedding.dispose();
    if (this.head !== this.embedding) this.head.dispose();
    for (const l of this.layers) {
      for (const n of [l.inputNorm, l.postAttentionNorm, l.attnSubNorm, l.ffnSubNorm]) if (n) tensors.push(n);
      for (const p of [l.q, l.k, l.v, l.o, l.gate, l.up, l.down]) p?.dispose();
    }
    for (const t of tensors) t.dispose();
    for (const release of this.#disposers.splice(0)) release();
  }
}

function packProjection(fn: string, name: string, m: unknown): PackedTernary {
  if (!(m instanceof BitLinear)) {
    throw new TypeError(`${fn}: ${name} is not a BitLinear (the model was built with linear: 'fp32'); only BitNet b1.58 models pack to ternary`);
  }
  if (m.lambda !== 1) throw new RangeError(`${fn}: ${name} has quantization lambda ${m.lambda}; pack a model trained to lambda = 1`);
  const tw = quantizeWeightsTernary(m.weight);
  try {
    return packTernary(tw);
  } finally {
    tw.codes.dispose();
    tw.scales.dispose();
  }
}

// The detached view is disposed here: left to the garbage collector it counted as a live tensor.
const copy = (t: Tensor<"f32">): Tensor<"f32"> => {
  const d = t.detach();
  try {
    return d.clone() as Tensor<"f32">;
  } finally {
    d.dispose();
  }
};

/** Options of {@link packModel}. */
export interface PackModelOptions {
  /** Storage of the token embeddings (default 'f32'; a tied model's default is headFormat). */
  embeddingFormat?: DenseFormat;
  /**
   * Storage of the LM head (default: the embedding's format when tied, else 'f32'). The head is
   * read whole for every generated token: 'int8' reads a quarter of f32's bytes, 'f16'/'bf16'
   * half. A tied model whose two formats differ stores the matrix twice.
   */
  headFormat?: DenseFormat;
}

/**
 * Packs a trained BitNetLM for inference: ternary projections in the kernels' 2-bit layout with
 * their absmean scales (the same quantization as the training forward), norms in f32, embeddings
 * and head in the formats of `opts` (f32 by default). The packed model owns copies: the BitNetLM
 * may keep training or be disposed.
 */
export function packModel(lm: BitNetLM, opts: PackModelOptions = {}): PackedModel {
  const fn = "packModel";
  if (!(lm instanceof BitNetLM)) throw new TypeError(`${fn}: lm must be a BitNetLM, received ${describe(lm)}`);
  if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object, received ${describe(opts)}`);
  const tied = !lm.lm_head;
  if (opts.headFormat !== undefined) checkDenseFormat(fn, "opts.headFormat", opts.headFormat);
  // A tied matrix given one format is stored once, in that format.
  const embeddingFormat = checkDenseFormat(fn, "opts.embeddingFormat", opts.embeddingFormat ?? (tied ? opts.headFormat : undefined) ?? "f32");
  const headFormat = checkDenseFormat(fn, "opts.headFormat", opts.headFormat ?? (tied ? embeddingFormat : "f32"));
  const layers: PackedLayer[] = [];
  const made: PackedTernary[] = [];
  const track = (p: PackedTernary): PackedTernary => (made.push(p), p);
  try {
    [...lm.model.layers].forEach((block, i) => {
      const at = `model.layers.${i}`;
      const a = block.self_attn;
      const m = block.mlp;
      // Projections first: a model that cannot pack fails before any copy is made.
      const q = track(packProjection(fn, `${at}.self_attn.q_proj`, a.q_proj));
      const k = track(packProjection(fn, `${at}.self_attn.k_proj`, a.k_proj));
      const v = track(packProjection(fn, `${at}.self_attn.v_proj`, a.v_proj));
      const o = track(packProjection(fn, `${at}.self_attn.o_proj`, a.o_proj));
      const gate = m.gate_proj ? track(packProjection(fn, `${at}.mlp.gate_proj`, m.gate_proj)) : null;
      const up = track(packProjection(fn, `${at}.mlp.up_proj`, m.up_proj));
      const down = track(packProjection(fn, `${at}.mlp.down_proj`, m.down_proj));
      layers.push({
        inputNorm: copy(block.input_layernorm.weight),
        postAttentionNorm: copy(block.post_attention_layernorm.weight),
        attnSubNorm: a.attn_sub_norm ? copy(a.attn_sub_norm.weight) : null,
        ffnSubNorm: m.ffn_sub_norm ? copy(m.ffn_sub_norm.weight) : null,
        q, k, v, o, gate, up, down,
      });
    });
  } catch (e) {
    for (const p of made) p.dispose();
    for (const l of layers) for (const n of [l.inputNorm, l.postAttentionNorm, l.attnSubNorm, l.ffnSubNorm]) n?.dispose();
    throw e;
  }
  const dense = (t: Tensor<"f32">, format: DenseFormat): DenseWeights => {
    const d = t.detach();
    try {
      return DenseWeights.from(d, format);
    } finally {
      d.dispose();
    }
  };
  const embedding = dense(lm.model.embed_tokens.weight, embeddingFormat);
  let head = embedding;
  try {
    if (lm.lm_head) head = dense(lm.lm_head.weight, headFormat);
    else if (headFormat !== embeddingFormat) head = dense(lm.model.embed_tokens.weight, headFormat);
  } catch (e) {
    embedding.dispose();
    for (const p of made) p.dispose();
    for (const l of layers) for (const n of [l.inputNorm, l.postAttentionNorm, l.attnSubNorm, l.ffnSubNorm]) n?.dispose();
    throw e;
  }
  return new PackedModel(lm.config, embedding, layers, copy(lm.model.norm.weight), head);
}
