// The element-wise kernels, written once as plain loops and compiled per ISA (ref.cc, avx2.cc,
// avx512.cc). Internal linkage: see core/registry.h.
#pragma once
#include <cmath>

#include "cpu/elementwise/elementwise.h"

namespace bitnet {
namespace {
namespace elementwise_impl {

void map(ElementwiseOp op, const float* a, const float* b, float* out, size_t n) {
  switch (op) {
    case ElementwiseOp::Add:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
      break;
    case ElementwiseOp::Sub:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
      break;
    case ElementwiseOp::Mul:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
      break;
    case ElementwiseOp::Div:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] / b[i];
      break;
    case ElementwiseOp::Relu2:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] > 0.0f ? a[i] * a[i] : 0.0f;
      break;
    case ElementwiseOp::Relu2Backward:
      for (size_t i = 0; i < n; ++i) out[i] = a[i] > 0.0f ? (2.0f * a[i]) * b[i] : 0.0f;
      break;
  }
}

void dequantize(const int8_t* q, size_t r0, size_t r1, size_t cols, size_t kp, const float* scale, float* out) {
  for (size_t r = r0; r < r1; ++r) {
    const float s = scale[r];
    const int8_t* qr = q + r * kp;
    float* o = out + r * cols;
    for (size_t c = 0; c < cols; ++c) o[c] = static_cast<float>(qr[c]) / s;
  }
}

void scale_codes(const int8_t* codes, float scale, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(codes[i]) * scale;
}

void rope(const float* x, float* out, size_t r0, size_t r1, size_t seq, size_t heads, size_t head_dim, const float* cos,
          const float* sin, size_t offset, float sign) {
  const size_t half = head_dim / 2;
  for (size_t r = r0; r < r1; ++r) {
    const float* c = cos + (offset + r % seq) * half;
    const float* s = sin + (offset + r % seq) * half;
    for (size_t h = 0; h < heads; ++h) {
      const float* xi = x + (r * heads + h) * head_dim;
      float* o = out + (r * heads + h) * head_dim;
      for (size_t i = 0; i < half; ++i) {
        const double ci = c[i], si = static_cast<double>(sign) * s[i];
        const double x1 = xi[i], x2 = xi[half + i];
        o[i] = static_cast<float>(x1 * ci - x2 * si);
        o[half + i] = static_cast<float>(x1 * si + x2 * ci);
      }
    }
  }
}

void adamw_update(float* p, const float* g, float* m, float* v, size_t i0, size_t i1, double decay, double beta1, double beta2,
           double step_size, double bias2_sqrt, double eps) {
  const double a1 = 1 - beta1, a2 = 1 - beta2;
  for (size_t i = i0; i < i1; ++i) {
    const double gi = g[i];
    const double mi = beta1 * m[i] + a1 * gi;
    const double vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    p[i] = static_cast<float>(p[i] * decay - (step_size * mi) / (std::sqrt(vi) / bias2_sqrt + eps));
  }
}

double sum_squares(const float* x, size_t n) {
  double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) p[j] += static_cast<double>(x[i + j]) * x[i + j];
  double s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

}  // namespace elementwise_impl
}  // namespace
}  // namespace bitnet
