// Kernel family "attention": causal softmax attention with grouped-query heads, forward and
// backward, on [B, T, H, hd] row-major tensors (the layout a projection's output reshapes to).
// Query t of Tq attends to keys j <= t + (Tk - Tq) (Tk >= Tq: earlier keys are a KV cache).
// The forward saves each query row's log-sum-exp; the backward recomputes the probabilities
// from it (no T x T matrix is kept). Work is split over (batch, kv head) pairs, so every
// dK/dV row is written by one thread in a fixed order: results do not depend on the thread count.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/attention_shape.h"
#include "core/registry.h"

namespace bitnet {

struct AttentionKernels {
  // One (batch b, kv head g) task of the forward: out and lse for the query heads of group g.
  void (*forward)(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v, float* out,
                  float* lse, float* scratch);
  // One (b, g) task of the backward: dq for the group's query heads, dk and dv of kv head g
  // (overwritten, not accumulated).
  void (*backward)(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v,
                   const float* out, const float* lse, const float* dout, float* dq, float* dk, float* dv, float* scratch);
  // Decode: one query position (q [q_heads][head_dim]) against a KV cache of kv_len positions
  // ([kv_len][kv_heads][head_dim], f32 or IEEE f16), every key visible. One task per kv head g:
  // out for its query heads; scratch holds attention_decode_scratch_floats() floats.
  void (*decode_f32)(const float* q, const float* k, const float* v, size_t kv_len, size_t q_heads, size_t kv_heads,
                     size_t head_dim, float scale, size_t g, float* out, float* scratch);
  void (*decode_f16)(const float* q, const uint16_t* k, const uint16_t* v, size_t kv_len, size_t q_heads, size_t kv_heads,
                     size_t head_dim, float scale, size_t g, float* out, float* scratch);
};


// The scratch layout of a task (impl.h carves it with these): keys and head_dim padded to 16
// floats, query rows in blocks of kAttentionBlockRows, and the backward's P and dS kept for a
// panel of at most kAttentionPanelRows query rows (bounds the scratch for long sequences).
constexpr size_t kAttentionBlockRows = 4;
constexpr size_t kAttentionPanelRows = 128;
static inline size_t attention_pad16(size_t n) { return (n + 15) / 16 * 16; }
// Row length of the transposed K and V and of the score rows: the keys padded to an odd number
// of 64-byte lines, so that walking a column (one line per row) spreads over all cache sets.
static inline size_t attention_ldk(const AttentionShape& s) {
  const size_t n = attention_pad16(s.kv_len);
  return n % 32 == 0 ? n + 16 : n;
}
static inline size_t attention_panel_rows(const AttentionShape& s) {
  return s.q_len < kAttentionPanelRows ? s.q_len : kAttentionPanelRows;
}

// Floats of scratch a task needs.
static inline size_t attention_scratch_floats(const AttentionShape& s) {
  const size_t ldk = attention_ldk(s), hdp = attention_pad16(s.head_dim), n16 = attention_pad16(s.kv_len);
  const size_t panel = attention_panel_rows(s), block = kAttentionBlockRows;
  const size_t forward = hdp * ldk + 2 * n16 * hdp + block * ldk + block * hdp;
  const size_t backward = 2 * hdp * ldk + n16 * hdp + 2 * ldk * hdp + 2 * panel * hdp + 2 * panel * ldk + block * hdp;
  return (forward > backward ? forward : backward) + 16;
}

static inline size_t attention_decode_scratch_floats(size_t kv_len, size_t q_heads, size_t kv_heads, size_t head_dim) {
  return (q_heads / kv_heads) * (attention_pad16(kv_len) + attention_pad16(head_dim)) + 16;
}

extern const AttentionKernels kAttentionScalar;
extern const AttentionKernels kAttentionAvx2;
extern const AttentionKernels kAttentionAvx512;
extern const AttentionKernels kAttentionNeon;

const KernelFamily<AttentionKernels>& attention_family();

}  // namespace bitnet
