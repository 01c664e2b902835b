// arm64 with the dot-product extension (sdot: Apple M1, Graviton 2, Cortex-A76 and later).
// GEMV: neon_dot.h. GEMM: the sdot panel, each panel vector (4 weight rows x 4 k) multiplied by
// one 4-byte lane of an activation vector (sdot by element): per 16 k of 4 activation rows x 16
// weight rows, 4 activation loads, 16 panel loads and 64 sdot (1024 products).
#include "cpu/ternary/neon_dot.h"

namespace bitnet {
namespace {

struct Micro {
  static constexpr size_t kMicroRows = 4;
  static void pack(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
    neon_dot::pack_sdot(w, kp, k0, kc, n, rows, panel);
  }
  template <size_t MR>
  static void tile(const int8_t* x, size_t ldx, const uint8_t* panel, size_t kc, int32_t* t) {
    int32x4_t a[MR][4];
    for (size_t i = 0; i < MR; ++i)
      for (size_t v = 0; v < 4; ++v) a[i][v] = vdupq_n_s32(0);
    for (size_t s = 0; s < kc / 4; s += 4) {
      int8x16_t xv[MR];
      for (size_t i = 0; i < MR; ++i) xv[i] = vld1q_s8(x + i * ldx + 4 * s);
      const uint8_t* p = panel + s * 64;
#define BITNET_STEP(q)                                                            \
  {                                                                               \
    const int8x16_t w0 = vld1q_s8(reinterpret_cast<const int8_t*>(p + (q) * 64));      \
    const int8x16_t w1 = vld1q_s8(reinterpret_cast<const int8_t*>(p + (q) * 64 + 16)); \
    const int8x16_t w2 = vld1q_s8(reinterpret_cast<const int8_t*>(p + (q) * 64 + 32)); \
    const int8x16_t w3 = vld1q_s8(reinterpret_cast<const int8_t*>(p + (q) * 64 + 48)); \
    for (size_t i = 0; i < MR; ++i) {                                             \
      a[i][0] = vdotq_laneq_s32(a[i][0], w0, xv[i], q);                           \
      a[i][1] = vdotq_laneq_s32(a[i][1], w1, xv[i], q);                           \
      a[i][2] = vdotq_laneq_s32(a[i][2], w2, xv[i], q);                           \
      a[i][3] = vdotq_laneq_s32(a[i][3], w3, xv[i], q);                           \
    }                                                                             \
  }
      BITNET_STEP(0)
      BITNET_STEP(1)
      BITNET_STEP(2)
      BITNET_STEP(3)
#undef BITNET_STEP
    }
    for (size_t i = 0; i < MR; ++i)
      for (size_t v = 0; v < 4; ++v) vst1q_s32(t + i * ternary_drivers::kPanelRows + 4 * v, a[i][v]);
  }
};

// Up to this many activation rows, a GEMV pass per row over each four-row group (in L1 between
// the passes) costs less than unpacking panels.
constexpr size_t kGemvRows = 3;

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
               size_t ldo, uint8_t* scratch) {
  ternary_drivers::dot_codes<Micro>(neon_dot::gemv_group, kGemvRows, x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
}

}  // namespace

const TernaryKernels kTernaryNeonDotprod = {dot_codes, neon_common::scale};

}  // namespace bitnet
