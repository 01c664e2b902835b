// arm64 NEON with the dot-product extension (sdot). Compiled only on arm64 and not testable on
// the x86 CI machines, so it stays simple: unpack a row's codes to int8, then sdot.
#include <arm_neon.h>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {

void unpack_row(const uint8_t* row, size_t blocks, int8_t* codes) {
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t j = 0; j < kTernaryBlockBytes; j += 16) {
      const uint8x16_t v = vld1q_u8(row + b * 4 * kTernaryBlockBytes + j);
      for (int f = 0; f < 4; ++f) {
        const uint8x16_t c = vandq_u8(vshlq_u8(v, vdupq_n_s8(static_cast<int8_t>(-2 * f))), vdupq_n_u8(3));
        vst1q_s8(codes + b * kTernaryBlock + 64 * f + j, vreinterpretq_s8_u8(c));
      }
    }
  }
}

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
               int32_t* out, size_t ldo, uint8_t* scratch) {
  int8_t* codes = reinterpret_cast<int8_t*>(scratch);
  for (size_t n = n0; n < n1; ++n) {
    unpack_row(w + tl256_offset(kp, n, 0), kp / kTernaryBlock, codes);
    for (size_t i = 0; i < m; ++i) {
      int32x4_t acc = vdupq_n_s32(0);
      for (size_t k = 0; k < kp; k += 16) acc = vdotq_s32(acc, vld1q_s8(codes + k), vld1q_s8(x + i * ldx + k));
      out[i * ldo + n] = vaddvq_s32(acc);
    }
  }
}

}  // namespace

const TernaryKernels kTernaryNeon = {dot_codes, scale_dots_ref};

}  // namespace bitnet
