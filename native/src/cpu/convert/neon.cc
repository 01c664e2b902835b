// arm64 NEON. Compiled only on arm64; not testable on the x86 CI machines, so it stays simple:
// hardware f16 conversion (FPCR default rounding is to nearest even), integer bf16 rounding.
#include <arm_neon.h>

#include "cpu/convert/convert.h"

namespace bitnet {
namespace {

void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float16x4_t h = vcvt_f16_f32(vld1q_f32(in + i));
    vst1_u16(out + i, vreinterpret_u16_f16(h));
  }
  for (; i < n; ++i) out[i] = f32_to_f16_one(in[i]);
}

void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(in + i))));
  for (; i < n; ++i) out[i] = f16_to_f32_one(in[i]);
}

void f32_to_bf16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32x4_t x = vld1q_u32(reinterpret_cast<const uint32_t*>(in + i));
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
    uint32x4_t r = vshrq_n_u32(vaddq_u32(vaddq_u32(x, vdupq_n_u32(0x7fff)), lsb), 16);
    uint32x4_t nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
    uint32x4_t quiet = vorrq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(0x40));
    vst1_u16(out + i, vmovn_u32(vbslq_u32(nan, quiet, r)));
  }
  for (; i < n; ++i) out[i] = f32_to_bf16_one(in[i]);
}

void bf16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32x4_t w = vshlq_n_u32(vmovl_u16(vld1_u16(in + i)), 16);
    vst1q_u32(reinterpret_cast<uint32_t*>(out + i), w);
  }
  for (; i < n; ++i) out[i] = bf16_to_f32_one(in[i]);
}

}  // namespace

const ConvertKernels kConvertNeon = {f32_to_f16, f16_to_f32, f32_to_bf16, bf16_to_f32};

}  // namespace bitnet
