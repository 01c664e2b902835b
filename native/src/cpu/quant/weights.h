// Absmean ternary weight quantization (see quant.h), written once as plain loops and compiled per
// ISA (ref.cc, avx2.cc, avx512.cc, neon.cc): the compiler vectorises the eight partial sums and the
// code comparisons lane by lane, so every variant adds the same numbers in the same order and
// gives the same bits. Internal linkage: see core/registry.h.
#pragma once
#include <cmath>
#include <limits>

#include "cpu/quant/quant.h"

namespace bitnet {
namespace {
namespace weights_impl {

constexpr size_t kSumChunk = 4096;

// Sum of |x| over [0, len) in double, in a fixed order: chunks of 4096 summed in sequence, each
// chunk as eight interleaved partial sums (element i of a chunk goes to partial i % 8) added as
// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)). One serial chain of double adds cost
// ~1.2 ns an element (the add latency); eight chains vectorise.
inline double abs_sum(const float* x, size_t len) {
  double total = 0.0;
  for (size_t c = 0; c < len; c += kSumChunk) {
    const size_t end = c + kSumChunk < len ? c + kSumChunk : len;
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = c;
    for (; i + 8 <= end; i += 8)
      for (size_t j = 0; j < 8; ++j) p[j] += std::fabs(static_cast<double>(x[i + j]));
    for (; i < end; ++i) p[(i - c) % 8] += std::fabs(static_cast<double>(x[i]));
    total += ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  }
  return total;
}

// The caller has checked that every value is finite.
// Returns false (writing nothing) when the span holds a NaN or infinity: |x| summed in double
// cannot overflow for finite floats, so a non-finite sum is the check (a separate scan of the
// weights cost as much as the quantization itself).
inline bool quantize_span(const float* w, size_t len, int8_t* codes, float* scale) {
  const double total = abs_sum(w, len);
  if (!std::isfinite(total)) return false;
  float s = len == 0 ? kWeightEps : static_cast<float>(total / static_cast<double>(len));
  s = s > kWeightEps ? s : kWeightEps;
  // clamp(round_half_even(v), -1, 1) is 1 above 0.5, -1 below -0.5 and 0 in between (0.5 itself
  // rounds to the even 0): two compares, no branch and no rounding call, so the loop vectorises
  // (the compare-and-jump form mispredicted on every other random weight: 6 ns an element).
  for (size_t i = 0; i < len; ++i) {
    const float v = w[i] / s;
    codes[i] = static_cast<int8_t>(static_cast<int>(v > 0.5f) - static_cast<int>(v < -0.5f));
  }
  *scale = s;
  return true;
}

inline size_t first_nonfinite(const float* w, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (!(std::fabs(w[i]) <= std::numeric_limits<float>::max())) return i;
  return std::numeric_limits<size_t>::max();
}

inline size_t quantize_weights_ternary(const float* w, size_t n, size_t k, WeightScaleMode mode, int8_t* codes, float* scales) {
  const size_t none = std::numeric_limits<size_t>::max();
  // Spans are quantized in flat order, so the first failing span holds the first bad value.
  auto span = [&](size_t begin, size_t len, float* scale) {
    return quantize_span(w + begin, len, codes + begin, scale) ? none : begin + first_nonfinite(w + begin, len);
  };
  switch (mode) {
    case WeightScaleMode::Tensor:
      return span(0, n * k, scales);
    case WeightScaleMode::Channel:
      for (size_t r = 0; r < n; ++r)
        if (const size_t bad = span(r * k, k, scales + r); bad != none) return bad;
      break;
    case WeightScaleMode::Group128: {
      const size_t groups = (k + kWeightGroup - 1) / kWeightGroup;
      for (size_t r = 0; r < n; ++r)
        for (size_t g = 0; g < groups; ++g) {
          const size_t begin = g * kWeightGroup, len = begin + kWeightGroup <= k ? kWeightGroup : k - begin;
          if (const size_t bad = span(r * k + begin, len, scales + r * groups + g); bad != none) return bad;
        }
      break;
    }
  }
  return none;
}

}  // namespace weights_impl
}  // namespace
}  // namespace bitnet
