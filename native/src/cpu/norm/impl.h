// The norm kernels, written once as plain loops and compiled per ISA (ref.cc, avx2.cc,
// avx512.cc): the compiler vectorises them. Internal linkage: see core/registry.h.
#pragma once
#include <cmath>
#include <cstring>

#include "cpu/norm/norm.h"

namespace bitnet {
namespace {
namespace norm_impl {

void rms_forward(const float* x, const float* w, size_t r0, size_t r1, size_t d, float eps, float* out, float* rstd) {
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * d;
    float* o = out + r * d;
    double ss = 0;
    for (size_t k = 0; k < d; ++k) ss += static_cast<double>(xr[k]) * xr[k];
    const float s = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(d) + eps));
    rstd[r] = s;
    if (w == nullptr) {
      for (size_t k = 0; k < d; ++k) o[k] = xr[k] * s;
    } else {
      for (size_t k = 0; k < d; ++k) o[k] = xr[k] * s * w[k];
    }
  }
}

void rms_backward(const float* g, const float* x, const float* w, const float* rstd, size_t r0, size_t r1, size_t d,
                  float* dx, double* dw_chunks) {
  for (size_t r = r0; r < r1; ++r) {
    const float* gr = g + r * d;
    const float* xr = x + r * d;
    const float s = rstd[r];
    if (dx != nullptr) {
      double dot = 0;
      if (w == nullptr) {
        for (size_t k = 0; k < d; ++k) dot += static_cast<double>(gr[k]) * xr[k];
      } else {
        for (size_t k = 0; k < d; ++k) dot += static_cast<double>(w[k] * gr[k]) * xr[k];
      }
      const float c = static_cast<float>(static_cast<double>(s) * s * s * dot / static_cast<double>(d));
      float* o = dx + r * d;
      if (w == nullptr) {
        for (size_t k = 0; k < d; ++k) o[k] = s * gr[k] - c * xr[k];
      } else {
        for (size_t k = 0; k < d; ++k) o[k] = s * w[k] * gr[k] - c * xr[k];
      }
    }
    if (dw_chunks != nullptr) {
      double* acc = dw_chunks + (r / kNormChunkRows) * d;
      if (r % kNormChunkRows == 0) std::memset(acc, 0, d * sizeof(double));
      for (size_t k = 0; k < d; ++k) acc[k] += static_cast<double>(gr[k] * xr[k] * s);
    }
  }
}

}  // namespace norm_impl
}  // namespace
}  // namespace bitnet
