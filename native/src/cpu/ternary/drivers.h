// The loops the SIMD variants share around their kernels. Included only by variant files
// (internal linkage: see core/registry.h).
// - group_gemv: one activation row at a time against each group of four weight rows (a group is
//   one sequential stream in tl256, and stays in L1 while the rows pass over it).
// - panel_gemm: for each panel of 16 weight rows and each chunk of k, Micro::pack unpacks the
//   tl256 rows into the variant's panel layout, then Micro::tile<MR> multiplies MR activation
//   rows (read in place) with it into an int32 [MR][16] tile, stored (first chunk) or added
//   (later chunks) to the output.
// - dot_codes: GEMV passes up to a few activation rows, panels beyond.
#pragma once
#include <algorithm>
#include <cstring>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {
namespace ternary_drivers {

constexpr size_t kPanelRows = 16;
constexpr size_t kPanelK = 1024;  // k per panel chunk: 16 rows x 1024 codes = 16 KiB, in L1

template <class Micro, size_t MR>
inline void tile_rows(const int8_t* x, size_t ldx, size_t rows, const uint8_t* panel, size_t kc, int32_t* t) {
  if constexpr (MR > 0) {
    if (rows == MR) return Micro::template tile<MR>(x, ldx, panel, kc, t);
    tile_rows<Micro, MR - 1>(x, ldx, rows, panel, kc, t);
  }
}

// Micro: kMicroRows, pack(w, kp, k0, kc, n, rows, panel) (rows <= 16, the rest zero codes),
// tile<MR>(x, ldx, panel, kc, t) for MR in [1, kMicroRows].
template <class Micro>
void panel_gemm(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
                size_t ldo, uint8_t* panel) {
  constexpr size_t mr = Micro::kMicroRows;
  alignas(64) int32_t tile[mr * kPanelRows];
  for (size_t n = n0; n < n1; n += kPanelRows) {
    const size_t cols = std::min(kPanelRows, n1 - n);
    for (size_t k0 = 0; k0 < kp; k0 += kPanelK) {
      const size_t kc = std::min(kPanelK, kp - k0);
      Micro::pack(w, kp, k0, kc, n, cols, panel);
      for (size_t i = 0; i < m; i += mr) {
        const size_t rows = std::min(mr, m - i);
        tile_rows<Micro, mr>(x + i * ldx + k0, ldx, rows, panel, kc, tile);
        for (size_t r = 0; r < rows; ++r) {
          int32_t* o = out + (i + r) * ldo + n;
          const int32_t* t = tile + r * kPanelRows;
          if (k0 > 0) {
            for (size_t j = 0; j < cols; ++j) o[j] += t[j];
          } else {
            std::memcpy(o, t, cols * sizeof(int32_t));
          }
        }
      }
    }
  }
}

// group(x, g, blocks, out4): one activation row against the four-row group at g.
template <class Group>
inline void group_gemv(Group group, const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
                       int32_t* out, size_t ldo) {
  const size_t blocks = kp / kTernaryBlock;
  for (size_t n = n0; n < n1; n += 4) {
    const uint8_t* g = w + tl256_offset(kp, n, 0);
    for (size_t i = 0; i < m; ++i) {
      alignas(16) int32_t r4[4];
      group(x + i * ldx, g, blocks, r4);
      // A last partial group still computes four rows (the padding rows are zero weights).
      for (size_t r = 0; r < 4 && n + r < n1; ++r) out[i * ldo + n + r] = r4[r];
    }
  }
}

// TernaryKernels::dot_codes: GEMV passes for up to gemv_rows activation rows (re-reading a group
// from L1 beats unpacking panels whose cost does not shrink with M), panels beyond.
template <class Micro, class Group>
inline void dot_codes(Group group, size_t gemv_rows, const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp,
                      size_t n0, size_t n1, int32_t* out, size_t ldo, uint8_t* scratch) {
  if (m > gemv_rows) return panel_gemm<Micro>(x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
  group_gemv(group, x, ldx, m, w, kp, n0, n1, out, ldo);
}

}  // namespace ternary_drivers
}  // namespace
}  // namespace bitnet
