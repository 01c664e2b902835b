// The embedding kernels, written once as plain loops and compiled per ISA (ref.cc, avx2.cc,
// avx512.cc, neon.cc): the compiler vectorises the column loops. Internal linkage: see
// core/registry.h.
#pragma once
#include <cstring>

#include "cpu/embedding/embedding.h"

namespace bitnet {
namespace {
namespace embedding_impl {

void gather(const float* w, size_t d, const int32_t* ids, size_t n, size_t c0, size_t c1, float* out) {
  for (size_t i = 0; i < n; ++i) std::memcpy(out + i * d + c0, w + static_cast<size_t>(ids[i]) * d + c0, (c1 - c0) * sizeof(float));
}

void scatter_add(const float* g, size_t d, const int32_t* ids, size_t n, size_t c0, size_t c1, float* dw) {
  for (size_t i = 0; i < n; ++i) {
    float* dst = dw + static_cast<size_t>(ids[i]) * d;
    const float* src = g + i * d;
    for (size_t c = c0; c < c1; ++c) dst[c] += src[c];
  }
}

}  // namespace embedding_impl
}  // namespace
}  // namespace bitnet
