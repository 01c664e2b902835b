// Kernel family "gemm": fp32 C = alpha * op(A) * op(B) + beta * C, row-major (BLAS sgemm
// semantics). A variant is a register-blocked micro-kernel over packed panels; the blocking,
// packing and threading around it (gemm/driver.cc) are shared by all variants.
//
// Packed panels: A is cut into panels of MR rows, stored k-major (for each k, the MR values of
// the panel's rows: a[k * MR + i]); B into panels of NR columns, k-major too (b[k * NR + j]).
// Edge panels are zero padded, so micro-kernels always run full MR x NR tiles.
//
// Determinism: every element of C is summed over k in the same order (KC-sized blocks in
// ascending order, ascending k inside a block) whatever the thread count, because threads
// split C's rows and never k. Different variants round differently (FMA vs multiply-add), so
// results are compared across variants with a tolerance, and across thread counts exactly.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/registry.h"

namespace bitnet {

struct GemmKernels {
  size_t mr, nr;
  // c[i * ldc + j] = sum_k a[k * mr + i] * b[k * nr + j] (k < kc) + beta * c[i * ldc + j] for
  // an MR x NR tile; beta == 0 writes without reading c (it may hold garbage or NaN).
  void (*micro)(size_t kc, const float* a, const float* b, float* c, size_t ldc, float beta);
};

extern const GemmKernels kGemmScalar;
extern const GemmKernels kGemmAvx2;
extern const GemmKernels kGemmAvx512;

const KernelFamily<GemmKernels>& gemm_family();

struct GemmArgs {
  bool trans_a, trans_b;
  size_t m, n, k;
  float alpha;
  const float* a;
  size_t lda;
  const float* b;
  size_t ldb;
  float beta;
  float* c;
  size_t ldc;
};

// Runs one sgemm with the active variant on the thread pool.
void sgemm(const GemmArgs& g);
// Bytes of per-thread scratch the driver allocates (exposed for the memory limit checks).
size_t gemm_scratch_bytes();

}  // namespace bitnet
