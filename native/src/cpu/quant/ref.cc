#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/quant/quant.h"

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

const QuantKernels kQuantScalar = {quantize_rows};

}  // namespace bitnet

namespace bitnet {
namespace {

constexpr size_t kSumChunk = 4096;

// Sum of |x| over [0, len) in double, chunk by chunk, in a fixed order.
double abs_sum(const float* x, size_t len) {
  double total = 0.0;
  for (size_t c = 0; c < len; c += kSumChunk) {
    const size_t end = c + kSumChunk < len ? c + kSumChunk : len;
    double part = 0.0;
    for (size_t i = c; i < end; ++i) part += std::fabs(static_cast<double>(x[i]));
    total += part;
  }
  return total;
}

// The caller has checked that every value is finite.
void quantize_span(const float* w, size_t len, int8_t* codes, float* scale) {
  float s = len == 0 ? kWeightEps : static_cast<float>(abs_sum(w, len) / static_cast<double>(len));
  s = s > kWeightEps ? s : kWeightEps;
  // clamp(round_half_even(v), -1, 1) is 1 above 0.5, -1 below -0.5 and 0 in between (0.5 itself
  // rounds to the even 0): two compares, no branch and no rounding call, so the loop vectorises
  // (the compare-and-jump form mispredicted on every other random weight: 6 ns an element).
  for (size_t i = 0; i < len; ++i) {
    const float v = w[i] / s;
    codes[i] = static_cast<int8_t>(static_cast<int>(v > 0.5f) - static_cast<int>(v < -0.5f));
  }
  *scale = s;
}

size_t first_nonfinite(const float* w, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (!(std::fabs(w[i]) <= std::numeric_limits<float>::max())) return i;
  return std::numeric_limits<size_t>::max();
}

}  // namespace

size_t weight_scale_count(WeightScaleMode mode, size_t n, size_t k) {
  switch (mode) {
    case WeightScaleMode::Tensor: return 1;
    case WeightScaleMode::Channel: return n;
    case WeightScaleMode::Group128: return n * ((k + kWeightGroup - 1) / kWeightGroup);
  }
  return 0;
}

size_t quantize_weights_ternary(const float* w, size_t n, size_t k, WeightScaleMode mode, int8_t* codes,
                                float* scales) {
  const size_t none = std::numeric_limits<size_t>::max();
  const size_t bad = first_nonfinite(w, n * k);
  if (bad != none) return bad;
  switch (mode) {
    case WeightScaleMode::Tensor:
      quantize_span(w, n * k, codes, scales);
      break;
    case WeightScaleMode::Channel:
      for (size_t r = 0; r < n; ++r) quantize_span(w + r * k, k, codes + r * k, scales + r);
      break;
    case WeightScaleMode::Group128: {
      const size_t groups = (k + kWeightGroup - 1) / kWeightGroup;
      for (size_t r = 0; r < n; ++r)
        for (size_t g = 0; g < groups; ++g) {
          const size_t begin = g * kWeightGroup, len = begin + kWeightGroup <= k ? kWeightGroup : k - begin;
          quantize_span(w + r * k + begin, len, codes + r * k + begin, scales + r * groups + g);
        }
      break;
    }
  }
  return none;
}

}  // namespace bitnet
