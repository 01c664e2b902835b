// AVX-512 micro-kernel, 12 x 32: 24 zmm accumulators, two B vectors and one broadcast per FMA
// pair. Zen 4 retires one zmm FMA a cycle; 24 independent chains cover its 4-cycle latency.
#include <immintrin.h>

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

}  // namespace

const GemmKernels kGemmAvx512 = {kMr, kNr, micro};

}  // namespace bitnet
