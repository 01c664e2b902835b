// Shape of one causal attention call, shared by the backend interface and the kernels.
#pragma once
#include <cstddef>

namespace bitnet {

// q [batch, q_len, q_heads, head_dim], k and v [batch, kv_len, kv_heads, head_dim], row-major.
struct AttentionShape {
  size_t batch, q_len, kv_len, q_heads, kv_heads, head_dim;
  float scale;
};

}  // namespace bitnet
