// The float-format dense kernels of the arm64 variants (neon.cc, neon_dotprod.cc), which differ
// only in their int8 kernel: the x86_256.h scheme with 4-lane vectors (a single sequential stream
// of weight rows for one activation row, quads of weight rows for a few). Included only by those
// files (internal linkage: see core/registry.h).
#pragma once
#include <arm_neon.h>

#include <cstring>

#include "cpu/dense/dense.h"

namespace bitnet {
namespace {
namespace dense_neon {

struct F32 {
  using W = float;
  static float32x4_t load(const float* p) { return vld1q_f32(p); }
  static float one(float v) { return v; }
};
struct F16 {
  using W = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
};
struct Bf16 {
  using W = uint16_t;
  static float32x4_t load(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

template <class Fmt>
inline float tail(const float* x, const typename Fmt::W* w, size_t c, size_t k) {
  float s = 0.0f;
  for (; c < k; ++c) s += x[c] * Fmt::one(w[c]);
  return s;
}

template <class Fmt>
void row(const float* x, size_t k, const typename Fmt::W* w, size_t n0, size_t n1, float* out) {
  const size_t full16 = k / 16 * 16, full4 = k / 4 * 4;
  for (size_t j = n0; j < n1; ++j) {
    const typename Fmt::W* wj = w + j * k;
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c < full16; c += 16) {
      a0 = vfmaq_f32(a0, Fmt::load(wj + c), vld1q_f32(x + c));
      a1 = vfmaq_f32(a1, Fmt::load(wj + c + 4), vld1q_f32(x + c + 4));
      a2 = vfmaq_f32(a2, Fmt::load(wj + c + 8), vld1q_f32(x + c + 8));
      a3 = vfmaq_f32(a3, Fmt::load(wj + c + 12), vld1q_f32(x + c + 12));
    }
    for (; c < full4; c += 4) a0 = vfmaq_f32(a0, Fmt::load(wj + c), vld1q_f32(x + c));
    out[j] = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3))) + tail<Fmt>(x, wj, c, k);
  }
}

template <class Fmt>
void rows(const float* x, size_t m, size_t k, const typename Fmt::W* w, size_t n0, size_t n1, float* out, size_t ldo) {
  if (m == 1) return row<Fmt>(x, k, w, n0, n1, out);
  const size_t full4 = k / 4 * 4;
  size_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    const typename Fmt::W* w0 = w + j * k;
    for (size_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
      size_t c = 0;
      for (; c < full4; c += 4) {
        const float32x4_t xv = vld1q_f32(xi + c);
        a0 = vfmaq_f32(a0, Fmt::load(w0 + c), xv);
        a1 = vfmaq_f32(a1, Fmt::load(w0 + k + c), xv);
        a2 = vfmaq_f32(a2, Fmt::load(w0 + 2 * k + c), xv);
        a3 = vfmaq_f32(a3, Fmt::load(w0 + 3 * k + c), xv);
      }
      float* o = out + i * ldo + j;
      o[0] = vaddvq_f32(a0) + tail<Fmt>(xi, w0, c, k);
      o[1] = vaddvq_f32(a1) + tail<Fmt>(xi, w0 + k, c, k);
      o[2] = vaddvq_f32(a2) + tail<Fmt>(xi, w0 + 2 * k, c, k);
      o[3] = vaddvq_f32(a3) + tail<Fmt>(xi, w0 + 3 * k, c, k);
    }
  }
  for (; j < n1; ++j)
    for (size_t i = 0; i < m; ++i) row<Fmt>(x + i * k, k, w, j, j + 1, out + i * ldo);
}

void f32(const float* x, size_t m, size_t k, const float* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows<F32>(x, m, k, w, n0, n1, out, ldo);
}
void f16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows<F16>(x, m, k, w, n0, n1, out, ldo);
}
void bf16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows<Bf16>(x, m, k, w, n0, n1, out, ldo);
}

// int8 rows: the weight rows one after another for one activation row, quads of weight rows
// against each of a few; Dot::dot64(acc, x, w) adds 64 products to an int32x4 accumulator.
template <class Dot>
void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  size_t j = n0;
  if (m > 1) {
    for (; j + 4 <= n1; j += 4) {
      const int8_t* w0 = w + j * k;
      for (size_t i = 0; i < m; ++i) {
        const int8_t* xi = x + i * k;
        int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
        for (size_t c = 0; c < k; c += 64) {
          a0 = Dot::dot64(a0, xi + c, w0 + c);
          a1 = Dot::dot64(a1, xi + c, w0 + k + c);
          a2 = Dot::dot64(a2, xi + c, w0 + 2 * k + c);
          a3 = Dot::dot64(a3, xi + c, w0 + 3 * k + c);
        }
        int32_t* o = out + i * ldo + j;
        o[0] = vaddvq_s32(a0);
        o[1] = vaddvq_s32(a1);
        o[2] = vaddvq_s32(a2);
        o[3] = vaddvq_s32(a3);
      }
    }
  }
  for (; j < n1; ++j) {
    for (size_t i = 0; i < m; ++i) {
      int32x4_t a = vdupq_n_s32(0);
      for (size_t c = 0; c < k; c += 64) a = Dot::dot64(a, x + i * k + c, w + j * k + c);
      out[i * ldo + j] = vaddvq_s32(a);
    }
  }
}

}  // namespace dense_neon
}  // namespace
}  // namespace bitnet
