// The norm kernels, written once as plain loops and compiled per ISA (ref.cc, avx2.cc,
// avx512.cc): the compiler vectorises them. Internal linkage: see core/registry.h.
#pragma once
#include <cmath>
#include <cstring>

#include "cpu/norm/norm.h"

namespace bitnet {
namespace {
namespace norm_impl {

// Sum of a[k] * b[k] in float64 with eight partial sums in a fixed pattern: one dependency
// chain would take 4 cycles an element; the fixed order keeps the result the same everywhere.
inline double dot64(const float* a, const float* b, size_t d) {
  double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t k = 0;
  for (; k + 8 <= d; k += 8)
    for (size_t j = 0; j < 8; ++j) p[j] += static_cast<double>(a[k + j]) * b[k + j];
  double s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  for (; k < d; ++k) s += static_cast<double>(a[k]) * b[k];
  return s;
}

void rms_forward(const float* x, const float* w, size_t r0, size_t r1, size_t d, float eps, float* out, float* rstd) {
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * d;
    float* o = out + r * d;
    const double ss = dot64(xr, xr, d);
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
        dot = dot64(gr, xr, d);
      } else {
        // Eight partial sums of (w g) x, as in dot64.
        double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t k = 0;
        for (; k + 8 <= d; k += 8)
          for (size_t j = 0; j < 8; ++j) p[j] += static_cast<double>(w[k + j] * gr[k + j]) * xr[k + j];
        dot = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
        for (; k < d; ++k) dot += static_cast<double>(w[k] * gr[k]) * xr[k];
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

void xent_forward(const CrossEntropyRows& c, size_t r0, size_t r1, double* lse, double* loss) {
  const size_t v = c.classes;
  for (size_t r = r0; r < r1; ++r) {
    if (c.ignored(r)) {
      lse[r] = loss[r] = 0;
      continue;
    }
    const float* x = c.logits + r * v;
    float m = -INFINITY;
    // x * 0 is 0 for a finite logit and NaN for NaN or an infinity: a branch-free poison that
    // makes the row's loss NaN (an -infinity logit alone would otherwise pass unnoticed).
    float poison = 0;
    for (size_t j = 0; j < v; ++j) {
      m = x[j] > m ? x[j] : m;
      poison += x[j] * 0.0f;
    }
    double s = 0;
    for (size_t j = 0; j < v; ++j) s += std::exp(static_cast<double>(x[j]) - m);
    const double l = m + std::log(s) + poison;
    lse[r] = l;
    loss[r] = l - x[c.targets[r]];
  }
}

void xent_backward(const CrossEntropyRows& c, const double* lse, const double* scale, bool per_row_scale, size_t r0, size_t r1,
                   float* dx) {
  const size_t v = c.classes;
  for (size_t r = r0; r < r1; ++r) {
    float* d = dx + r * v;
    if (c.ignored(r)) {
      std::memset(d, 0, v * sizeof(float));
      continue;
    }
    const float* x = c.logits + r * v;
    const double l = lse[r], sc = per_row_scale ? scale[r] : scale[0];
    for (size_t j = 0; j < v; ++j) d[j] = static_cast<float>(std::exp(static_cast<double>(x[j]) - l) * sc);
    const size_t t = static_cast<size_t>(c.targets[r]);
    d[t] = static_cast<float>(d[t] - sc);
  }
}

inline void softmax_weights(const float* z, size_t i0, size_t i1, float max, float inv_t, float* w) {
  for (size_t i = i0; i < i1; ++i) w[i] = std::exp((z[i] - max) * inv_t);
}

}  // namespace norm_impl
}  // namespace
}  // namespace bitnet
