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
  // The same tile from bf16 panels, k in pairs: a[kk * 2 * mr + 2 * i + {0, 1}] holds rows i at
  // k = 2 kk, 2 kk + 1, b[kk * 2 * nr + 2 * j + {0, 1}] likewise for columns; kc2 pairs. Products
  // of bf16 values are exact in float32 and accumulate in float32. Null for a variant without
  // bf16 instructions: sgemm(bf16) then runs `micro` in fp32 (the fp32 speed, fp32 accuracy).
  void (*micro_bf16)(size_t kc2, const uint16_t* a, const uint16_t* b, float* c, size_t ldc, float beta);
  // Packing primitives for bf16 panels (null: the driver's scalar loops). interleave: out[2j] =
  // bf16(alpha r0[j]), out[2j + 1] = bf16(alpha r1[j]) for j < n (r1 null: zeros). pairs: the pair
  // (row[2p], row[2p + 1]) * alpha as bf16 to out + p * stride for 2p < n (a lone last element
  // pairs with 0). Rounding to nearest even.
  void (*interleave_bf16)(const float* r0, const float* r1, size_t n, float alpha, uint16_t* out);
  void (*pairs_bf16)(const float* row, size_t n, float alpha, uint16_t* out, size_t stride);
};


extern const GemmKernels kGemmScalar;
extern const GemmKernels kGemmAvx2;
extern const GemmKernels kGemmAvx512;
extern const GemmKernels kGemmNeon;

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

// Runs one sgemm with the active variant on the thread pool. With bf16 on a variant with bf16
// instructions (AVX-512 BF16), both operands are rounded to bfloat16 (round to nearest even) as
// they are packed and the products accumulate in float32: twice the arithmetic rate, ~3
// significant digits per operand. Elsewhere bf16 runs the fp32 product.
void sgemm(const GemmArgs& g, bool bf16 = false);
// Whether sgemm(bf16) runs bf16 instructions under the active ISA (else it runs in fp32).
bool sgemm_bf16_native();
// Bytes of per-thread scratch the driver allocates (exposed for the memory limit checks).
size_t gemm_scratch_bytes();

}  // namespace bitnet
