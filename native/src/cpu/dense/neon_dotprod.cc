// arm64 dense kernels with sdot: int8 x int8, four products into an int32 lane (exact), one
// instruction per 16 products; float formats as neon.cc (neon_float.h).
#include "cpu/dense/neon_float.h"

namespace bitnet {
namespace {

struct SdotDot {
  static int32x4_t dot64(int32x4_t acc, const int8_t* x, const int8_t* w) {
    acc = vdotq_s32(acc, vld1q_s8(x), vld1q_s8(w));
    acc = vdotq_s32(acc, vld1q_s8(x + 16), vld1q_s8(w + 16));
    acc = vdotq_s32(acc, vld1q_s8(x + 32), vld1q_s8(w + 32));
    return vdotq_s32(acc, vld1q_s8(x + 48), vld1q_s8(w + 48));
  }
};

void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  dense_neon::i8<SdotDot>(x, m, k, w, n0, n1, out, ldo);
}

}  // namespace

const DenseKernels kDenseNeonDotprod = {dense_neon::f32, dense_neon::f16, dense_neon::bf16, i8};

}  // namespace bitnet
