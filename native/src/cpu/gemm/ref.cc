// Scalar reference micro-kernel: the plain triple loop on packed panels.
#include <cstring>

#include "cpu/gemm/gemm.h"

namespace bitnet {
namespace {

constexpr size_t kMr = 4, kNr = 8;

void micro(size_t kc, const float* a, const float* b, float* c, size_t ldc, float beta) {
  float acc[kMr][kNr] = {};
  for (size_t k = 0; k < kc; ++k)
    for (size_t i = 0; i < kMr; ++i)
      for (size_t j = 0; j < kNr; ++j) acc[i][j] += a[k * kMr + i] * b[k * kNr + j];
  for (size_t i = 0; i < kMr; ++i)
    for (size_t j = 0; j < kNr; ++j) c[i * ldc + j] = beta == 0.0f ? acc[i][j] : acc[i][j] + beta * c[i * ldc + j];
}

}  // namespace

const GemmKernels kGemmScalar = {kMr, kNr, micro, nullptr, nullptr, nullptr};

}  // namespace bitnet
