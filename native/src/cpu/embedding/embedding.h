// Kernel family "embedding": the token-embedding lookup (a gather of weight rows) and its
// gradient (a scatter-add of gradient rows at their ids). Threads split the columns, so each
// output element is written, or summed in row order, by one thread: the same float32 additions
// in the same order as the scalar loop, for every ISA and thread count (repeated ids included).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/registry.h"

namespace bitnet {

struct EmbeddingKernels {
  // out[i * d + c] = w[ids[i] * d + c] for rows i in [0, n), columns c in [c0, c1).
  void (*gather)(const float* w, size_t d, const int32_t* ids, size_t n, size_t c0, size_t c1, float* out);
  // dw[ids[i] * d + c] += g[i * d + c] for i = 0, 1, ..., n - 1 in order, c in [c0, c1).
  void (*scatter_add)(const float* g, size_t d, const int32_t* ids, size_t n, size_t c0, size_t c1, float* dw);
};

extern const EmbeddingKernels kEmbeddingScalar;
extern const EmbeddingKernels kEmbeddingAvx2;
extern const EmbeddingKernels kEmbeddingAvx512;
extern const EmbeddingKernels kEmbeddingNeon;

const KernelFamily<EmbeddingKernels>& embedding_family();

}  // namespace bitnet
