// AVX2 micro-kernel, 6 x 16: 12 ymm accumulators, two B vectors, one broadcast per FMA pair.
#include <immintrin.h>

#include "cpu/gemm/gemm.h"

namespace bitnet {
namespace {

constexpr size_t kMr = 6, kNr = 16;

void micro(size_t kc, const float* a, const float* b, float* c, size_t ldc, float beta) {
  __m256 acc[kMr][2];
  for (auto& r : acc) r[0] = r[1] = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kNr);
    const __m256 b1 = _mm256_loadu_ps(b + k * kNr + 8);
    const float* ak = a + k * kMr;
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(ak + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  if (beta == 0.0f) {
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      _mm256_storeu_ps(c + i * ldc, acc[i][0]);
      _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      _mm256_storeu_ps(c + i * ldc, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc), acc[i][0]));
      _mm256_storeu_ps(c + i * ldc + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc + 8), acc[i][1]));
    }
  }
}

}  // namespace

const GemmKernels kGemmAvx2 = {kMr, kNr, micro, nullptr, nullptr, nullptr};

}  // namespace bitnet
