// Kernel family "dense": activation rows times a dense weight matrix stored one output row after
// another ([n, k], row-major), for the embedding-tied LM head and other large matrices read at
// decode time. Small M (a decode step, a batch of decode steps) is the case that matters: the
// weights stream from memory once per call and every activation row reuses each loaded chunk,
// so the speed is the memory bandwidth over the format's bytes per weight (4, 2, 2 or 1).
//
// Formats: f32, f16 (IEEE half), bf16 (top half of an f32), int8 per row (symmetric absmax,
// with the quantized activations' int8 rows: exact int32 dots, scaled afterwards).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/kernel_types.h"
#include "core/registry.h"

namespace bitnet {

// DenseFormat and kDenseInt8Align (int8 rows are padded to a multiple of it): core/kernel_types.h.

struct DenseKernels {
  // out[i * ldo + j] = sum_k x[i * k + k'] * w[j * k + k'] for i in [0, m), j in [n0, n1).
  void (*f32)(const float* x, size_t m, size_t k, const float* w, size_t n0, size_t n1, float* out, size_t ldo);
  void (*f16)(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo);
  void (*bf16)(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo);
  // Exact int32 dots; k is a multiple of kDenseInt8Align.
  void (*i8)(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo);
};

extern const DenseKernels kDenseScalar;
extern const DenseKernels kDenseAvx2;
extern const DenseKernels kDenseAvxVnni;
extern const DenseKernels kDenseAvx512;
extern const DenseKernels kDenseNeon;
extern const DenseKernels kDenseNeonDotprod;

const KernelFamily<DenseKernels>& dense_family();

}  // namespace bitnet
