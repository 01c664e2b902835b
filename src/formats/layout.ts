// The tensors of one decoder block, named as Hugging Face names them (our own files use the same
// names), with their shapes under a config: shared by every model loader and writer.
import { ResolvedBitNetConfig } from "../nn/bitnet";

/** PackedLayer's projections and their Hugging Face names under `model.layers.{i}.`. */
export const PROJECTIONS = [
  ["q", "self_attn.q_proj"],
  ["k", "self_attn.k_proj"],
  ["v", "self_attn.v_proj"],
  ["o", "self_attn.o_proj"],
  ["gate", "mlp.gate_proj"],
  ["up", "mlp.up_proj"],
  ["down", "mlp.down_proj"],
] as const;

/** PackedLayer's norms and their Hugging Face names. */
export const NORMS = [
  ["inputNorm", "input_layernorm"],
  ["postAttentionNorm", "post_attention_layernorm"],
  ["attnSubNorm", "self_attn.attn_sub_norm"],
  ["ffnSubNorm", "mlp.ffn_sub_norm"],
] as const;

export type ProjectionKey = (typeof PROJECTIONS)[number][0];
export type NormKey = (typeof NORMS)[number][0];

/** [n, k] of a projection under `c` (rows = output features). */
export function projectionShape(c: ResolvedBitNetConfig, which: ProjectionKey): [number, number] {
  const d = c.hidden_size;
  const hd = d / c.num_attention_heads;
  switch (which) {
    case "q":
      return [c.num_attention_heads * hd, d];
    case "k":
    case "v":
      return [c.num_key_value_heads * hd, d];
    case "o":
      return [d, c.num_attention_heads * hd];
    case "gate":
    case "up":
      return [c.intermediate_size, d];
    case "down":
      return [d, c.intermediate_size];
  }
}
