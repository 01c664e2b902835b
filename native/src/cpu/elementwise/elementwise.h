// Kernel family "elementwise": the hot element-wise maps of training (residual adds, gated
// products, ReLU^2 and its gradient, gradient accumulation) and the dequantization of int8
// activations, and rotary position embeddings. Every result is one correctly rounded float32 operation of its inputs, exactly
// what the JavaScript fallbacks compute, so the two paths agree bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/kernel_types.h"
#include "core/registry.h"

namespace bitnet {

// ElementwiseOp: core/kernel_types.h.

struct ElementwiseKernels {
  // out[i] = a[i] op b[i] for i in [0, n) (Relu2 reads only a; Relu2Backward: a = x, b = g).
  void (*map)(ElementwiseOp op, const float* a, const float* b, float* out, size_t n);
  // out[r, c] = q[r * kp + c] / scale[r] for rows [r0, r1), c < cols.
  void (*dequantize)(const int8_t* q, size_t r0, size_t r1, size_t cols, size_t kp, const float* scale, float* out);
  // out[i] = codes[i] * scale for i in [0, n): ternary weights dequantized for BitLinear's backward.
  void (*scale_codes)(const int8_t* codes, float scale, float* out, size_t n);
  // Rotate-half RoPE of rows [r0, r1) of x [rows = batch * seq, heads, head_dim], position of row r
  // = offset + r % seq, angle sign +1 (forward) or -1 (backward): out = [x1 c - x2 s, x1 s + x2 c].
  // Each output is computed in float64 and rounded once (the JavaScript formula's rounding).
  void (*rope)(const float* x, float* out, size_t r0, size_t r1, size_t seq, size_t heads, size_t head_dim, const float* cos,
               const float* sin, size_t offset, float sign);
  // One AdamW update of elements [i0, i1) in float64, PyTorch's order of operations:
  // m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p = p * decay - step_size * m / (sqrt(v) / bias2_sqrt + eps).
  void (*adamw_update)(float* p, const float* g, float* m, float* v, size_t i0, size_t i1, double decay, double beta1, double beta2,
                double step_size, double bias2_sqrt, double eps);
  // Sum of x[i]^2 over [0, n) in float64, eight partial sums in a fixed pattern.
  double (*sum_squares)(const float* x, size_t n);
};

extern const ElementwiseKernels kElementwiseScalar;
extern const ElementwiseKernels kElementwiseAvx2;
extern const ElementwiseKernels kElementwiseAvx512;
extern const ElementwiseKernels kElementwiseNeon;

const KernelFamily<ElementwiseKernels>& elementwise_family();

}  // namespace bitnet
