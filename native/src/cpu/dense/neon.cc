// arm64 Advanced SIMD dense kernels (neon_float.h); int8 without sdot: smull of 8 int8 pairs
// into int16 products (at most 128 * 128 = 16384: exact), pairwise-added into int32 by sadalp.
// Per 64 products: 8 multiplies and 8 widening adds.
#include "cpu/dense/neon_float.h"

namespace bitnet {
namespace {

struct MullDot {
  static int32x4_t dot64(int32x4_t acc, const int8_t* x, const int8_t* w) {
    for (size_t c = 0; c < 64; c += 16) {
      const int8x16_t xv = vld1q_s8(x + c), wv = vld1q_s8(w + c);
      acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(xv), vget_low_s8(wv)));
      acc = vpadalq_s16(acc, vmull_high_s8(xv, wv));
    }
    return acc;
  }
};

void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  dense_neon::i8<MullDot>(x, m, k, w, n0, n1, out, ldo);
}

}  // namespace

const DenseKernels kDenseNeon = {dense_neon::f32, dense_neon::f16, dense_neon::bf16, i8};

}  // namespace bitnet
