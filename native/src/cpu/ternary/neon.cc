// arm64 Advanced SIMD without the dot-product extension (Cortex-A72/A53 class: Raspberry Pi 4,
// older Graviton): smull/smlal of int8 codes and activations into int16 lanes, widened to int32
// by sadalp once per block. Per 256-weight block of a row: 4 loads, 4 x 6 field extractions,
// 32 multiply-accumulates (16 products each), 1 widening; the activations' 16 loads are shared
// by the group's four rows.
#include "cpu/ternary/neon_common.h"

namespace bitnet {
namespace {

// One activation row against a group of four weight rows. A product is in [-256, 254] and a lane
// takes 32 of them per block, within an int16.
void gemv_group(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  int32x4_t t[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
  for (size_t b = 0; b < blocks; ++b) {
    int16x8_t a[4] = {vdupq_n_s16(0), vdupq_n_s16(0), vdupq_n_s16(0), vdupq_n_s16(0)};
    const int8_t* xb = x + b * kTernaryBlock;
    const uint8_t* gb = g + b * 4 * kTernaryBlockBytes;
    for (size_t c = 0; c < kTernaryBlockBytes; c += 16) {
      const int8x16_t x0 = vld1q_s8(xb + c), x1 = vld1q_s8(xb + 64 + c);
      const int8x16_t x2 = vld1q_s8(xb + 128 + c), x3 = vld1q_s8(xb + 192 + c);
      for (size_t r = 0; r < 4; ++r) {
        const uint8x16_t v = vld1q_u8(gb + r * kTernaryBlockBytes + c);
        const int8x16_t f0 = vreinterpretq_s8_u8(vandq_u8(v, m3));
        const int8x16_t f1 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), m3));
        const int8x16_t f2 = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), m3));
        const int8x16_t f3 = vreinterpretq_s8_u8(vshrq_n_u8(v, 6));
        int16x8_t s = a[r];
        s = vmlal_s8(s, vget_low_s8(f0), vget_low_s8(x0));
        s = vmlal_high_s8(s, f0, x0);
        s = vmlal_s8(s, vget_low_s8(f1), vget_low_s8(x1));
        s = vmlal_high_s8(s, f1, x1);
        s = vmlal_s8(s, vget_low_s8(f2), vget_low_s8(x2));
        s = vmlal_high_s8(s, f2, x2);
        s = vmlal_s8(s, vget_low_s8(f3), vget_low_s8(x3));
        s = vmlal_high_s8(s, f3, x3);
        a[r] = s;
      }
    }
    for (size_t r = 0; r < 4; ++r) t[r] = vpadalq_s16(t[r], a[r]);
  }
  for (size_t r = 0; r < 4; ++r) out[r] = vaddvq_s32(t[r]);
}

// Without sdot a panel GEMM saves little over re-reading the group from L1 per activation row.
void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
               size_t ldo, uint8_t* /*scratch*/) {
  ternary_drivers::group_gemv(gemv_group, x, ldx, m, w, kp, n0, n1, out, ldo);
}

}  // namespace

const TernaryKernels kTernaryNeon = {dot_codes, neon_common::scale};

}  // namespace bitnet
