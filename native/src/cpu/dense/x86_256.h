// The float-format dense kernels of the 256-bit x86 variants (avx2.cc, avxvnni.cc), which differ
// only in their int8 kernel. Included only by those files (internal linkage: see
// core/registry.h).
//
// One activation row (a decode step): the weight rows one after another, a single sequential
// stream the prefetcher follows, four FMA chains per row. A few rows (a batch of decode steps):
// four weight rows at a time against each activation row, so the quad (4 x k x 4 bytes at most)
// stays in L1/L2 while the batch passes over it and DRAM sees each weight once per call.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "cpu/dense/dense.h"

namespace bitnet {
namespace {
namespace dense_x86 {

// Sequential weight streams are prefetched this far ahead: the hardware prefetcher alone left the
// AVX2 head GEMV at ~0.8 of the read bandwidth on one thread (Zen 5), with this ~0.9.
constexpr size_t kPrefetchBytes = 4096;

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct F32 {
  using W = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct F16 {
  using W = uint16_t;
  static __m256 load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static float one(uint16_t h) { return _cvtsh_ss(h); }
};
struct Bf16 {
  using W = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
  }
  static float one(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

// The k % 8 last products of a row.
template <class Fmt>
inline float tail(const float* x, const typename Fmt::W* w, size_t c, size_t k) {
  float s = 0.0f;
  for (; c < k; ++c) s += x[c] * Fmt::one(w[c]);
  return s;
}

template <class Fmt>
void row(const float* x, size_t k, const typename Fmt::W* w, size_t n0, size_t n1, float* out) {
  const size_t full32 = k / 32 * 32, full8 = k / 8 * 8;
  for (size_t j = n0; j < n1; ++j) {
    const typename Fmt::W* wj = w + j * k;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c < full32; c += 32) {
      // 32 weights are 64 (f16/bf16) or 128 (f32) bytes: one or two lines.
      const char* ahead = reinterpret_cast<const char*>(wj + c) + kPrefetchBytes;
      _mm_prefetch(ahead, _MM_HINT_T0);
      if (sizeof(typename Fmt::W) == 4) _mm_prefetch(ahead + 64, _MM_HINT_T0);
      a0 = _mm256_fmadd_ps(Fmt::load(wj + c), _mm256_loadu_ps(x + c), a0);
      a1 = _mm256_fmadd_ps(Fmt::load(wj + c + 8), _mm256_loadu_ps(x + c + 8), a1);
      a2 = _mm256_fmadd_ps(Fmt::load(wj + c + 16), _mm256_loadu_ps(x + c + 16), a2);
      a3 = _mm256_fmadd_ps(Fmt::load(wj + c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c < full8; c += 8) a0 = _mm256_fmadd_ps(Fmt::load(wj + c), _mm256_loadu_ps(x + c), a0);
    out[j] = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + tail<Fmt>(x, wj, c, k);
  }
}

template <class Fmt>
void rows(const float* x, size_t m, size_t k, const typename Fmt::W* w, size_t n0, size_t n1, float* out, size_t ldo) {
  if (m == 1) return row<Fmt>(x, k, w, n0, n1, out);
  const size_t full8 = k / 8 * 8;
  size_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    const typename Fmt::W* w0 = w + j * k;
    for (size_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      size_t c = 0;
      for (; c < full8; c += 8) {
        const __m256 xv = _mm256_loadu_ps(xi + c);
        a0 = _mm256_fmadd_ps(Fmt::load(w0 + c), xv, a0);
        a1 = _mm256_fmadd_ps(Fmt::load(w0 + k + c), xv, a1);
        a2 = _mm256_fmadd_ps(Fmt::load(w0 + 2 * k + c), xv, a2);
        a3 = _mm256_fmadd_ps(Fmt::load(w0 + 3 * k + c), xv, a3);
      }
      float* o = out + i * ldo + j;
      o[0] = hsum(a0) + tail<Fmt>(xi, w0, c, k);
      o[1] = hsum(a1) + tail<Fmt>(xi, w0 + k, c, k);
      o[2] = hsum(a2) + tail<Fmt>(xi, w0 + 2 * k, c, k);
      o[3] = hsum(a3) + tail<Fmt>(xi, w0 + 3 * k, c, k);
    }
  }
  for (; j < n1; ++j) {
    for (size_t i = 0; i < m; ++i) row<Fmt>(x + i * k, k, w, j, j + 1, out + i * ldo);
  }
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

}  // namespace dense_x86
}  // namespace
}  // namespace bitnet
