// Kernel family "norm": row-wise normalisations. RMSNorm forward and backward over rows of d
// floats, and the softmax cross-entropy of rows of logits.
//   y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps)
//   dx = rstd * w * g - x * rstd^3 * mean(w * g * x), dw = sum over rows of g * x * rstd
// Sums over a row run in float64 (eight partial sums in a fixed pattern). The weight gradient is summed over fixed chunks of
// kNormChunkRows rows (one partial per chunk, added in chunk order by the caller), so it does not
// depend on how rows are split between threads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/cross_entropy.h"
#include "core/registry.h"

namespace bitnet {

constexpr size_t kNormChunkRows = 64;

struct NormKernels {
  // Rows [r0, r1): out and rstd. w may be null (a weight of ones).
  void (*rms_forward)(const float* x, const float* w, size_t r0, size_t r1, size_t d, float eps, float* out, float* rstd);
  // Rows [r0, r1) (r0 a multiple of kNormChunkRows): dx (when not null) and, when dw_chunks is
  // not null, dw_chunks[c * d + k] = sum of g * x * rstd over the rows of chunk c, in float64.
  void (*rms_backward)(const float* g, const float* x, const float* w, const float* rstd, size_t r0, size_t r1, size_t d,
                       float* dx, double* dw_chunks);
  // Rows [r0, r1), in float64: lse[r] = max + log(sum exp(x - max)) and loss[r] = lse[r] -
  // x[target]; NaN when the row holds a NaN or an infinity. Ignored rows get 0 and 0.
  void (*xent_forward)(const CrossEntropyRows& c, size_t r0, size_t r1, double* lse, double* loss);
  // Rows [r0, r1): dx = exp(x - lse) * scale, minus scale at the target (scale[r] when
  // per_row_scale, else scale[0]); ignored rows are zeros.
  // Sampling weights of logits [i0, i1): w[i] = exp((z[i] - max) * inv_t), each one float
  // operation and one libm expf (no vector exp: every variant and thread count gives the same bits).
  void (*softmax_weights)(const float* z, size_t i0, size_t i1, float max, float inv_t, float* w);
  void (*xent_backward)(const CrossEntropyRows& c, const double* lse, const double* scale, bool per_row_scale, size_t r0,
                        size_t r1, float* dx);
};

extern const NormKernels kNormScalar;
extern const NormKernels kNormAvx2;
extern const NormKernels kNormAvx512;
extern const NormKernels kNormNeon;

const KernelFamily<NormKernels>& norm_family();

}  // namespace bitnet
