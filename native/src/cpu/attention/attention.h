// Kernel family "attention": causal softmax attention with grouped-query heads, forward and
// backward, on [B, T, H, hd] row-major tensors (the layout a projection's output reshapes to).
// Query t of Tq attends to keys j <= t + (Tk - Tq) (Tk >= Tq: earlier keys are a KV cache).
// The forward saves each query row's log-sum-exp; the backward recomputes the probabilities
// from it (no T x T matrix is kept). Work is split over (batch, kv head) pairs, so every
// dK/dV row is written by one thread in a fixed order: results do not depend on the thread count.
#pragma once
#include <cstddef>

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
};

// Floats of scratch a task needs.
static inline size_t attention_scratch_floats(const AttentionShape& s) { return 2 * s.kv_len + 2 * s.head_dim + 16; }

extern const AttentionKernels kAttentionScalar;
extern const AttentionKernels kAttentionAvx2;
extern const AttentionKernels kAttentionAvx512;

const KernelFamily<AttentionKernels>& attention_family();

}  // namespace bitnet
