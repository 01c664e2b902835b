// AVX-512 micro-kernel, 12 x 32: 24 zmm accumulators, two B vectors and one broadcast per FMA
// pair. Zen 4 retires one zmm FMA a cycle; 24 independent chains cover its 4-cycle latency.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/gemm/gemm.h"

namespace bitnet {
namespace {

constexpr size_t kMr = 12, kNr = 32;

void micro(size_t kc, const float* a, const float* b, float* c, size_t ldc, float beta) {
  __m512i zero = _mm512_setzero_si512();
  __m512 acc[kMr][2];
  for (auto& r : acc) r[0] = r[1] = _mm512_castsi512_ps(zero);
  for (size_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + k * kNr);
    const __m512 b1 = _mm512_loadu_ps(b + k * kNr + 16);
    const float* ak = a + k * kMr;
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(ak[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  if (beta == 0.0f) {
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      _mm512_storeu_ps(c + i * ldc, acc[i][0]);
      _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (size_t i = 0; i < kMr; ++i) {
      _mm512_storeu_ps(c + i * ldc, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + i * ldc), acc[i][0]));
      _mm512_storeu_ps(c + i * ldc + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + i * ldc + 16), acc[i][1]));
    }
  }
}

// vdpbf16ps accumulating in place (the intrinsic's register allocation spills, as with vpdpbusd).
inline void dpbf16(__m512& acc, __m512i a, __m512i b) { asm("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "vm"(b)); }

// bf16 tile: per k pair, two B vectors (32 columns x 2 k) and one broadcast pair of each of 12
// rows; named accumulators so GCC keeps all 24 in registers.
void micro_bf16(size_t kc2, const uint16_t* a, const uint16_t* b, float* c, size_t ldc, float beta) {
  const __m512 z = _mm512_setzero_ps();
  __m512 c0_0 = z, c0_1 = z;
  __m512 c1_0 = z, c1_1 = z;
  __m512 c2_0 = z, c2_1 = z;
  __m512 c3_0 = z, c3_1 = z;
  __m512 c4_0 = z, c4_1 = z;
  __m512 c5_0 = z, c5_1 = z;
  __m512 c6_0 = z, c6_1 = z;
  __m512 c7_0 = z, c7_1 = z;
  __m512 c8_0 = z, c8_1 = z;
  __m512 c9_0 = z, c9_1 = z;
  __m512 c10_0 = z, c10_1 = z;
  __m512 c11_0 = z, c11_1 = z;
  for (size_t kk = 0; kk < kc2; ++kk) {
    const __m512i b0 = _mm512_loadu_si512(b + kk * 2 * kNr);
    const __m512i b1 = _mm512_loadu_si512(b + kk * 2 * kNr + 32);
    const uint16_t* ak = a + kk * 2 * kMr;
#define BITNET_BF16_ROW(i)                                 \
  {                                                        \
    uint32_t pair;                                         \
    std::memcpy(&pair, ak + 2 * (i), 4);                   \
    const __m512i ai = _mm512_set1_epi32(static_cast<int>(pair)); \
    dpbf16(c##i##_0, ai, b0);                              \
    dpbf16(c##i##_1, ai, b1);                              \
  }
    BITNET_BF16_ROW(0)
    BITNET_BF16_ROW(1)
    BITNET_BF16_ROW(2)
    BITNET_BF16_ROW(3)
    BITNET_BF16_ROW(4)
    BITNET_BF16_ROW(5)
    BITNET_BF16_ROW(6)
    BITNET_BF16_ROW(7)
    BITNET_BF16_ROW(8)
    BITNET_BF16_ROW(9)
    BITNET_BF16_ROW(10)
    BITNET_BF16_ROW(11)
#undef BITNET_BF16_ROW
  }
  const __m512 vb = _mm512_set1_ps(beta);
#define BITNET_BF16_STORE(i)                                                                          \
  if (beta == 0.0f) {                                                                                   \
    _mm512_storeu_ps(c + (i) * ldc, c##i##_0);                                                         \
    _mm512_storeu_ps(c + (i) * ldc + 16, c##i##_1);                                                    \
  } else {                                                                                             \
    _mm512_storeu_ps(c + (i) * ldc, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (i) * ldc), c##i##_0));       \
    _mm512_storeu_ps(c + (i) * ldc + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (i) * ldc + 16), c##i##_1)); \
  }
  BITNET_BF16_STORE(0)
  BITNET_BF16_STORE(1)
  BITNET_BF16_STORE(2)
  BITNET_BF16_STORE(3)
  BITNET_BF16_STORE(4)
  BITNET_BF16_STORE(5)
  BITNET_BF16_STORE(6)
  BITNET_BF16_STORE(7)
  BITNET_BF16_STORE(8)
  BITNET_BF16_STORE(9)
  BITNET_BF16_STORE(10)
  BITNET_BF16_STORE(11)
#undef BITNET_BF16_STORE
}

void interleave_bf16(const float* r0, const float* r1, size_t n, float alpha, uint16_t* out) {
  const __m512 va = _mm512_set1_ps(alpha);
  alignas(64) static const uint16_t kIdx[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(kIdx);
  for (size_t j = 0; j < n; j += 16) {
    const size_t m = std::min<size_t>(16, n - j);
    const __mmask16 k16 = static_cast<__mmask16>((1u << m) - 1);
    const __m512 v0 = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(k16, r0 + j));
    const __m512 v1 = r1 == nullptr ? _mm512_setzero_ps() : _mm512_mul_ps(va, _mm512_maskz_loadu_ps(k16, r1 + j));
    const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0));  // [v0 | v1]
    const __mmask32 k32 = m == 16 ? 0xffffffffu : static_cast<__mmask32>((1u << (2 * m)) - 1);
    _mm512_mask_storeu_epi16(out + 2 * j, k32, _mm512_permutexvar_epi16(idx, both));
  }
}

void pairs_bf16(const float* row, size_t n, float alpha, uint16_t* out, size_t stride) {
  const __m512 va = _mm512_set1_ps(alpha);
  alignas(64) uint32_t pairs[16];
  for (size_t e = 0; e < n; e += 32) {
    const size_t m = std::min<size_t>(32, n - e);
    const __mmask16 k0 = static_cast<__mmask16>(m >= 16 ? 0xffff : (1u << m) - 1);
    const __mmask16 k1 = static_cast<__mmask16>(m <= 16 ? 0 : m >= 32 ? 0xffff : (1u << (m - 16)) - 1);
    const __m512 v0 = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(k0, row + e));
    const __m512 v1 = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(k1, row + e + 16));
    _mm512_store_si512(pairs, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(v1, v0)));
    const size_t np = (m + 1) / 2;
    for (size_t p = 0; p < np; ++p) std::memcpy(out + (e / 2 + p) * stride, pairs + p, 4);
  }
}

}  // namespace

const GemmKernels kGemmAvx512 = {kMr, kNr, micro, micro_bf16, interleave_bf16, pairs_bf16};

}  // namespace bitnet
