// arm64 Advanced SIMD: frintn rounds to nearest even, like nearbyint in the reference, and the
// products x * s are the same float32 multiplications. A NaN is caught by the <= FLT_MAX test
// (false for NaN), whatever fmax does with it; that row's outputs are unspecified anyway.
#include <arm_neon.h>

#include <limits>

#include "cpu/quant/weights.h"

namespace bitnet {
namespace {

size_t quantize_rows(const float* x, size_t ldx, size_t k, size_t kp, size_t r0, size_t r1, int8_t* q, size_t ldq,
                     float* scale, int32_t* sum) {
  size_t bad = std::numeric_limits<size_t>::max();
  const float32x4_t fmax = vdupq_n_f32(std::numeric_limits<float>::max());
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* qr = q + r * ldq;
    float32x4_t vmax = vdupq_n_f32(0.0f);
    uint32x4_t finite = vdupq_n_u32(0xffffffffu);
    size_t j = 0;
    for (; j + 4 <= k; j += 4) {
      const float32x4_t a = vabsq_f32(vld1q_f32(xr + j));
      finite = vandq_u32(finite, vcleq_f32(a, fmax));
      vmax = vmaxq_f32(vmax, a);
    }
    float amax = vmaxvq_f32(vmax);
    const bool ok = absmax_tail(xr, j, k, &amax) && vminvq_u32(finite) != 0;
    if (!ok && bad == std::numeric_limits<size_t>::max()) bad = r;
    const float s = activation_scale(amax);
    const float32x4_t vs = vdupq_n_f32(s), lo = vdupq_n_f32(-128.0f), hi = vdupq_n_f32(127.0f);
    int32x4_t vsum = vdupq_n_s32(0);
    j = 0;
    for (; j + 8 <= k; j += 8) {
      const float32x4_t a = vminq_f32(vmaxq_f32(vrndnq_f32(vmulq_f32(vld1q_f32(xr + j), vs)), lo), hi);
      const float32x4_t b = vminq_f32(vmaxq_f32(vrndnq_f32(vmulq_f32(vld1q_f32(xr + j + 4), vs)), lo), hi);
      const int32x4_t ia = vcvtq_s32_f32(a), ib = vcvtq_s32_f32(b);
      vsum = vaddq_s32(vsum, vaddq_s32(ia, ib));
      const int16x8_t h = vcombine_s16(vmovn_s32(ia), vmovn_s32(ib));
      vst1_s8(qr + j, vmovn_s16(h));
    }
    int32_t total = vaddvq_s32(vsum) + quantize_tail(xr, s, j, k, qr);
    pad_row(qr, k, kp);
    scale[r] = s;
    sum[r] = total;
  }
  return bad;
}

}  // namespace

const QuantKernels kQuantNeon = {quantize_rows, weights_impl::quantize_weights_ternary};

}  // namespace bitnet
