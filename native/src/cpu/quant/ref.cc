#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/quant/weights.h"

namespace bitnet {
namespace {

size_t quantize_rows(const float* x, size_t ldx, size_t k, size_t kp, size_t r0, size_t r1, int8_t* q, size_t ldq,
                     float* scale, int32_t* sum) {
  size_t bad = std::numeric_limits<size_t>::max();
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* qr = q + r * ldq;
    float amax = 0.0f;
    if (!absmax_tail(xr, 0, k, &amax) && bad == std::numeric_limits<size_t>::max()) bad = r;
    scale[r] = activation_scale(amax);
    sum[r] = quantize_tail(xr, scale[r], 0, k, qr);
    pad_row(qr, k, kp);
  }
  return bad;
}

}  // namespace

const QuantKernels kQuantScalar = {quantize_rows, weights_impl::quantize_weights_ternary};

}  // namespace bitnet
