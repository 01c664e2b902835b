// arm64 Advanced SIMD micro-kernel, 8 x 12: 24 accumulators (4 lanes each), three B vectors and
// two A vectors per k, each A value taken by lane (fmla by element), 29 of the 32 registers.
#include <arm_neon.h>

#include "cpu/gemm/gemm.h"

namespace bitnet {
namespace {

constexpr size_t kMr = 8, kNr = 12;

void micro(size_t kc, const float* a, const float* b, float* c, size_t ldc, float beta) {
  float32x4_t acc[kMr][3];
  for (auto& r : acc) r[0] = r[1] = r[2] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b + k * kNr), b1 = vld1q_f32(b + k * kNr + 4), b2 = vld1q_f32(b + k * kNr + 8);
    const float32x4_t a0 = vld1q_f32(a + k * kMr), a1 = vld1q_f32(a + k * kMr + 4);
#define BITNET_ROW(i, av, lane)                          \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av, lane); \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av, lane); \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av, lane);
    BITNET_ROW(0, a0, 0)
    BITNET_ROW(1, a0, 1)
    BITNET_ROW(2, a0, 2)
    BITNET_ROW(3, a0, 3)
    BITNET_ROW(4, a1, 0)
    BITNET_ROW(5, a1, 1)
    BITNET_ROW(6, a1, 2)
    BITNET_ROW(7, a1, 3)
#undef BITNET_ROW
  }
  for (size_t i = 0; i < kMr; ++i) {
    float* ci = c + i * ldc;
    for (size_t v = 0; v < 3; ++v) {
      const float32x4_t r = beta == 0.0f ? acc[i][v] : vfmaq_n_f32(acc[i][v], vld1q_f32(ci + 4 * v), beta);
      vst1q_f32(ci + 4 * v, r);
    }
  }
}

}  // namespace

const GemmKernels kGemmNeon = {kMr, kNr, micro, nullptr, nullptr, nullptr};

}  // namespace bitnet
