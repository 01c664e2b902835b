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

void micro_bf16(size_t kc2, const uint16_t* a, const uint16_t* b, float* c, size_t ldc, float beta) {
  micro_bf16_generic(kMr, kNr, kc2, a, b, c, ldc, beta);
}

}  // namespace

void micro_bf16_generic(size_t mr, size_t nr, size_t kc2, const uint16_t* a, const uint16_t* b, float* c, size_t ldc, float beta) {
  const auto wide = [](uint16_t v) {
    const uint32_t x = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  };
  float acc[16 * 64] = {};
  for (size_t kk = 0; kk < kc2; ++kk)
    for (size_t i = 0; i < mr; ++i)
      for (size_t j = 0; j < nr; ++j) {
        // vdpbf16ps order: the odd element's product first, then the even one's.
        float& s = acc[i * nr + j];
        s += wide(a[kk * 2 * mr + 2 * i + 1]) * wide(b[kk * 2 * nr + 2 * j + 1]);
        s += wide(a[kk * 2 * mr + 2 * i]) * wide(b[kk * 2 * nr + 2 * j]);
      }
  for (size_t i = 0; i < mr; ++i)
    for (size_t j = 0; j < nr; ++j) c[i * ldc + j] = beta == 0.0f ? acc[i * nr + j] : acc[i * nr + j] + beta * c[i * ldc + j];
}

const GemmKernels kGemmScalar = {kMr, kNr, micro, micro_bf16, nullptr, nullptr};

}  // namespace bitnet
