// Kernel family "quant": BitNet b1.58 activation quantization, bit-exact with the PyTorch recipe
// in float32: s = 127 / max(max|x|, 1e-5); q = clamp(round_half_even(x * s), -128, 127); and the
// absmean ternary quantization of weights.
#pragma once
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/kernel_types.h"
#include "core/registry.h"

namespace bitnet {

// WeightScaleMode and weight_scale_count(): core/kernel_types.h.
constexpr float kWeightEps = 1e-5f;

struct QuantKernels {
  // Quantizes rows [r0, r1) of x (k floats, stride ldx) into q (stride ldq >= kp, zero padded
  // from k to kp), writing scale[r] = s and sum[r] = sum of the row's int8 values. Returns the
  // first row holding a NaN or infinity, or SIZE_MAX (that row's outputs are unspecified).
  size_t (*quantize_rows)(const float* x, size_t ldx, size_t k, size_t kp, size_t r0, size_t r1, int8_t* q, size_t ldq,
                          float* scale, int32_t* sum);
  // Absmean ternary quantization of an [n, k] matrix: s = max(mean|W|, 1e-5) over each scale's
  // span, the mean accumulated in double in a fixed order (chunks of 4096 summed in sequence,
  // eight interleaved partial sums within a chunk; see weights.h), so that the result does not
  // depend on threads or variants; codes = clamp(round_half_even(w / s), -1, 1) in float32.
  // Writes int8 values in {-1, 0, 1} and the scales (weight_scale_count of them). Returns the
  // flat index of the first NaN/infinity, or SIZE_MAX.
  size_t (*quantize_weights_ternary)(const float* w, size_t n, size_t k, WeightScaleMode mode, int8_t* codes, float* scales);
};

extern const QuantKernels kQuantScalar;
extern const QuantKernels kQuantAvx2;
extern const QuantKernels kQuantAvx512;
extern const QuantKernels kQuantNeon;

const KernelFamily<QuantKernels>& quant_family();

constexpr float kActivationEps = 1e-5f;

// Scalar pieces every variant shares (the reference is built from them, SIMD variants use them
// for their tails), so the rounding rules live in one place.
static inline float activation_scale(float amax) { return 127.0f / (amax > kActivationEps ? amax : kActivationEps); }

// Folds |x[j..k)| into *amax; returns false if any of them is NaN or infinite.
static inline bool absmax_tail(const float* x, size_t j, size_t k, float* amax) {
  bool finite = true;
  for (; j < k; ++j) {
    const float a = std::fabs(x[j]);
    finite = finite && a <= std::numeric_limits<float>::max();
    *amax = a > *amax ? a : *amax;
  }
  return finite;
}

// q[j..k) = clamp(round_half_even(x * s), -128, 127) (nearbyint: the default rounding mode is
// to nearest even, like torch.round); returns their sum.
static inline int32_t quantize_tail(const float* x, float s, size_t j, size_t k, int8_t* q) {
  int32_t total = 0;
  for (; j < k; ++j) {
    float v = std::nearbyint(x[j] * s);
    v = v < -128.0f ? -128.0f : (v > 127.0f ? 127.0f : v);
    q[j] = static_cast<int8_t>(v);
    total += q[j];
  }
  return total;
}

// Zero padding of a row from k to kp (a null row when cols = 0 must not reach memset).
static inline void pad_row(int8_t* q, size_t k, size_t kp) {
  if (kp > k) std::memset(q + k, 0, kp - k);
}

}  // namespace bitnet
