// What the arm64 variants (neon.cc, neon_dotprod.cc, neon_i8mm.cc) share: the float64 scaling. Included only by those files (internal linkage: see
// core/registry.h).
#pragma once
#include <arm_neon.h>

#include "cpu/ternary/drivers.h"

namespace bitnet {
namespace {
namespace neon_common {

// Two lanes of the float64 scaling at a time (IEEE operations: the scalar reference's bits).
inline void scale(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row) {
  const float64x2_t xs = vdupq_n_f64(xscale);
  const int32x2_t s = vdup_n_s32(xsum);
  size_t j = n0;
  for (; j + 2 <= n1; j += 2) {
    const int32x2_t d = vsub_s32(vld1_s32(reinterpret_cast<const int32_t*>(row + j)), s);
    const float64x2_t ws = per_row ? vcvt_f64_f32(vld1_f32(wscale + j)) : vdupq_n_f64(wscale[0]);
    const float64x2_t y = vdivq_f64(vmulq_f64(vcvtq_f64_s64(vmovl_s32(d)), ws), xs);
    vst1_f32(row + j, vcvt_f32_f64(y));
  }
  scale_dots_ref(row, j, n1, xsum, xscale, wscale, per_row);
}

}  // namespace neon_common
}  // namespace
}  // namespace bitnet
