// arm64 with the int8 matrix-multiply extension (smmla: Apple M2 and later, Graviton 3,
// Neoverse V1/N2). GEMV as neon_dotprod.cc (one activation row cannot fill smmla's 2 x 2 tile).
// GEMM: smmla multiplies a pair of activation rows (8 k each) with a pair of weight rows into
// their 2 x 2 dots, twice sdot's products per instruction: per 8 k of 4 activation rows x 16
// weight rows, 4 activation loads, 8 panel loads and 16 smmla (1024 products).
#include "cpu/ternary/neon_dot.h"

namespace bitnet {
namespace {

// The partner of an odd last activation row.
alignas(16) const int8_t kZeroRow[ternary_drivers::kPanelK] = {};

struct Micro {
  static constexpr size_t kMicroRows = 4;
  static void pack(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
    neon_dot::pack_mmla(w, kp, k0, kc, n, rows, panel);
  }
  // acc[pa][p] = [x(2pa) . w(2p), x(2pa) . w(2p+1), x(2pa+1) . w(2p), x(2pa+1) . w(2p+1)].
  template <size_t MR>
  static void tile(const int8_t* x, size_t ldx, const uint8_t* panel, size_t kc, int32_t* t) {
    constexpr size_t pairs = (MR + 1) / 2;
    const int8_t* rows[2 * pairs];
    for (size_t i = 0; i < 2 * pairs; ++i) rows[i] = i < MR ? x + i * ldx : kZeroRow;
    int32x4_t a[pairs][8];
    for (size_t pa = 0; pa < pairs; ++pa)
      for (size_t p = 0; p < 8; ++p) a[pa][p] = vdupq_n_s32(0);
    for (size_t s = 0; s < kc / 8; ++s) {
      int8x16_t xa[pairs];
      for (size_t pa = 0; pa < pairs; ++pa) xa[pa] = vcombine_s8(vld1_s8(rows[2 * pa] + 8 * s), vld1_s8(rows[2 * pa + 1] + 8 * s));
      const int8_t* p0 = reinterpret_cast<const int8_t*>(panel + s * 128);
      for (size_t p = 0; p < 8; ++p) {
        const int8x16_t wv = vld1q_s8(p0 + 16 * p);
        for (size_t pa = 0; pa < pairs; ++pa) a[pa][p] = vmmlaq_s32(a[pa][p], xa[pa], wv);
      }
    }
    for (size_t pa = 0; pa < pairs; ++pa) {
      for (size_t p = 0; p < 8; ++p) {
        vst1_s32(t + (2 * pa) * ternary_drivers::kPanelRows + 2 * p, vget_low_s32(a[pa][p]));
        if (2 * pa + 1 < MR) vst1_s32(t + (2 * pa + 1) * ternary_drivers::kPanelRows + 2 * p, vget_high_s32(a[pa][p]));
      }
    }
  }
};

constexpr size_t kGemvRows = 3;

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
               size_t ldo, uint8_t* scratch) {
  ternary_drivers::dot_codes<Micro>(neon_dot::gemv_group, kGemvRows, x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
}

}  // namespace

const TernaryKernels kTernaryNeonI8mm = {dot_codes, neon_common::scale};

}  // namespace bitnet
