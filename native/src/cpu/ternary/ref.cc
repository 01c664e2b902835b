#include <cstring>

#include "cpu/ternary/ternary.h"

namespace bitnet {

void scale_dots_ref(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row) {
  const double xs = xscale;
  for (size_t j = n0; j < n1; ++j) {
    int32_t d;
    std::memcpy(&d, row + j, 4);
    row[j] = static_cast<float>((static_cast<double>(d - xsum) * wscale[per_row ? j : 0]) / xs);
  }
}

namespace {

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
               int32_t* out, size_t ldo, uint8_t* /*scratch*/) {
  for (size_t n = n0; n < n1; ++n) {
    for (size_t i = 0; i < m; ++i) {
      const int8_t* xr = x + i * ldx;
      int32_t acc = 0;
      for (size_t b = 0; b < kp / kTernaryBlock; ++b) {
        const uint8_t* blk = w + tl256_offset(kp, n, b);
        const int8_t* xb = xr + b * kTernaryBlock;
        for (size_t j = 0; j < kTernaryBlockBytes; ++j) {
          for (int f = 0; f < 4; ++f) acc += static_cast<int32_t>((blk[j] >> (2 * f)) & 3) * xb[j + 64 * f];
        }
      }
      out[i * ldo + n] = acc;
    }
  }
}

}  // namespace

const TernaryKernels kTernaryScalar = {dot_codes, scale_dots_ref};

}  // namespace bitnet
