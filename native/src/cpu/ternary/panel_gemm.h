// The GEMM driver the SIMD variants share (x86_256.h, neon_dot.h): for each panel of 16 weight
// rows and each chunk of k, Micro::pack unpacks the tl256 rows into the variant's panel layout,
// then Micro::tile<MR> multiplies MR activation rows (read in place) with it into an int32
// [MR][16] tile, which is stored (first chunk) or added (later chunks) to the output.
// Included only by variant files (internal linkage: see core/registry.h).
#pragma once
#include <algorithm>
#include <cstring>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {
namespace panel_gemm {

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
void gemm(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out, size_t ldo,
          uint8_t* panel) {
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

}  // namespace panel_gemm
}  // namespace
}  // namespace bitnet
