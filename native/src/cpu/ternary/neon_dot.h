// What the arm64 dot-product variants (neon_dotprod.cc, neon_i8mm.cc) share: the sdot GEMV and
// the unpacking of tl256 rows into their GEMM panels. Included only by those files (internal
// linkage: see core/registry.h).
#pragma once
#include "cpu/ternary/neon_common.h"
#include "cpu/ternary/drivers.h"

namespace bitnet {
namespace {
namespace neon_dot {

// One activation row against a group of four weight rows, sdot (int8 x int8, four products per
// int32 lane). Fields are isolated by masks where possible: v & 3 (field 0), v & 12 (4 x field 1),
// v & 48 (16 x field 2) and v >> 6 (field 3) are all valid int8 values, so a 16-byte chunk of a
// row takes four operations and four sdot; the x4 and x16 accumulators are divided exactly at
// the end. Per 256-weight block of a row: 4 loads, 16 field operations, 16 sdot.
inline void gemv_group(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const uint8x16_t m3 = vdupq_n_u8(0x03), m12 = vdupq_n_u8(0x0c), m48 = vdupq_n_u8(0x30);
  int32x4_t a1[4], a4[4], a16[4];
  for (size_t r = 0; r < 4; ++r) a1[r] = a4[r] = a16[r] = vdupq_n_s32(0);
  for (size_t b = 0; b < blocks; ++b) {
    const int8_t* xb = x + b * kTernaryBlock;
    const uint8_t* gb = g + b * 4 * kTernaryBlockBytes;
    for (size_t c = 0; c < kTernaryBlockBytes; c += 16) {
      const int8x16_t x0 = vld1q_s8(xb + c), x1 = vld1q_s8(xb + 64 + c);
      const int8x16_t x2 = vld1q_s8(xb + 128 + c), x3 = vld1q_s8(xb + 192 + c);
      for (size_t r = 0; r < 4; ++r) {
        const uint8x16_t v = vld1q_u8(gb + r * kTernaryBlockBytes + c);
        a1[r] = vdotq_s32(a1[r], vreinterpretq_s8_u8(vandq_u8(v, m3)), x0);
        a1[r] = vdotq_s32(a1[r], vreinterpretq_s8_u8(vshrq_n_u8(v, 6)), x3);
        a4[r] = vdotq_s32(a4[r], vreinterpretq_s8_u8(vandq_u8(v, m12)), x1);
        a16[r] = vdotq_s32(a16[r], vreinterpretq_s8_u8(vandq_u8(v, m48)), x2);
      }
    }
  }
  for (size_t r = 0; r < 4; ++r) out[r] = vaddvq_s32(vaddq_s32(a1[r], vaddq_s32(vshrq_n_s32(a4[r], 2), vshrq_n_s32(a16[r], 4))));
}

// Field f (codes 0..2) of 16 packed bytes.
inline uint8x16_t field(uint8x16_t v, int f) {
  const uint8x16_t m3 = vdupq_n_u8(3);
  switch (f) {
    case 0: return vandq_u8(v, m3);
    case 1: return vandq_u8(vshrq_n_u8(v, 2), m3);
    case 2: return vandq_u8(vshrq_n_u8(v, 4), m3);
    default: return vshrq_n_u8(v, 6);
  }
}

// The 16 bytes at `c` of block `b` of panel row `row`, or zeros past `rows`.
inline uint8x16_t load_row(const uint8_t* w, size_t kp, size_t n, size_t row, size_t rows, size_t block, size_t c) {
  return row < rows ? vld1q_u8(w + tl256_offset(kp, n + row, block) + c) : vdupq_n_u8(0);
}

// sdot panel: [k/4][16 rows][4 k], 64 bytes per 4 k (4 vectors of 4 rows x 4 codes). In chunk c
// (16 bytes) of a row's block, 32-bit word q of field f is the 4 codes of k = 64 f + 16 c + 4 q:
// word q of four rows transposed (4 x 4 of 32-bit words) is one panel vector.
inline void pack_sdot(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
  for (size_t b = 0; b < kc / kTernaryBlock; ++b) {
    const size_t block = k0 / kTernaryBlock + b;
    for (size_t c = 0; c < 4; ++c) {
      for (size_t g = 0; g < 4; ++g) {
        uint8x16_t v[4];
        for (size_t r = 0; r < 4; ++r) v[r] = load_row(w, kp, n, 4 * g + r, rows, block, 16 * c);
        for (int f = 0; f < 4; ++f) {
          const uint32x4_t e0 = vreinterpretq_u32_u8(field(v[0], f)), e1 = vreinterpretq_u32_u8(field(v[1], f));
          const uint32x4_t e2 = vreinterpretq_u32_u8(field(v[2], f)), e3 = vreinterpretq_u32_u8(field(v[3], f));
          const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(e0, e1)), t1 = vreinterpretq_u64_u32(vtrn2q_u32(e0, e1));
          const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(e2, e3)), t3 = vreinterpretq_u64_u32(vtrn2q_u32(e2, e3));
          uint8_t* dst = panel + (b * 64 + 16 * f + 4 * c) * 64 + 16 * g;
          vst1q_u8(dst, vreinterpretq_u8_u64(vtrn1q_u64(t0, t2)));
          vst1q_u8(dst + 64, vreinterpretq_u8_u64(vtrn1q_u64(t1, t3)));
          vst1q_u8(dst + 128, vreinterpretq_u8_u64(vtrn2q_u64(t0, t2)));
          vst1q_u8(dst + 192, vreinterpretq_u8_u64(vtrn2q_u64(t1, t3)));
        }
      }
    }
  }
}

// smmla panel: [k/8][8 row pairs][2 rows][8 k], 128 bytes per 8 k. In chunk c of field f a row
// holds k = 64 f + 16 c + 0..15, i.e. two 8-k steps; the low and high halves of two rows zipped
// are the pair's operands for those steps.
inline void pack_mmla(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
  for (size_t b = 0; b < kc / kTernaryBlock; ++b) {
    const size_t block = k0 / kTernaryBlock + b;
    for (size_t c = 0; c < 4; ++c) {
      for (size_t p = 0; p < 8; ++p) {
        const uint8x16_t v0 = load_row(w, kp, n, 2 * p, rows, block, 16 * c);
        const uint8x16_t v1 = load_row(w, kp, n, 2 * p + 1, rows, block, 16 * c);
        for (int f = 0; f < 4; ++f) {
          const uint64x2_t e0 = vreinterpretq_u64_u8(field(v0, f)), e1 = vreinterpretq_u64_u8(field(v1, f));
          uint8_t* dst = panel + (b * 32 + 8 * f + 2 * c) * 128 + 16 * p;
          vst1q_u8(dst, vreinterpretq_u8_u64(vzip1q_u64(e0, e1)));
          vst1q_u8(dst + 128, vreinterpretq_u8_u64(vzip2q_u64(e0, e1)));
        }
      }
    }
  }
}

}  // namespace neon_dot
}  // namespace
}  // namespace bitnet
