// Kernel family "ternary": int8 activations x packed ternary weights -> exact int32 dots.
//
// Weight layout "tl256" (the kernels' internal layout, repacked once at load): each row of K
// weights is padded to Kp = ceil(K / 256) * 256 with zeros. A block of 256 weights takes 64
// bytes; byte j of a block holds weights j, j+64, j+128, j+192 at bit offsets 0, 2, 4, 6; the
// 2-bit code is w + 1 (0 = -1, 1 = 0, 2 = +1). Field k of a byte then pairs with the contiguous
// activation slice [64k, 64k+64) of the block, so SIMD variants need only a mask (no shuffles)
// to line codes up with activations.
// Rows are stored in groups of four (N padded to a multiple of 4 with zero rows): for each
// block b, the group holds the block of its rows 0, 1, 2, 3 back to back (256 bytes). A GEMV
// over four rows then reads one sequential stream, which the hardware prefetcher follows from
// DRAM; rows interleaved 640 bytes apart were too short a stream for it.
//
// Activations: int8 rows of Kp bytes (zero padded). The kernels compute dot(code, x); the
// caller subtracts sum(x) to get dot(w, x) (code = w + 1). All arithmetic is exact int32, so
// every variant and thread count gives identical results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/kernel_types.h"
#include "core/registry.h"

namespace bitnet {

// Byte offset of block `block` of row `row` in a tl256 matrix with padded row length kp.
static inline size_t tl256_offset(size_t kp, size_t row, size_t block) {
  return (row / 4) * kp + block * kTernaryBlockBytes * 4 + (row % 4) * kTernaryBlockBytes;
}

// Threads split the output rows (weights) in tiles of kTernaryTileRows; the caller provides
// ternary_scratch_bytes(kp, m) bytes of 64-byte aligned scratch per thread (for any m) for the
// variants' unpacked weight panels and rearranged activations.
constexpr size_t kTernaryTileRows = 16;
static inline size_t ternary_scratch_bytes(size_t kp, size_t m) {
  // AVX-512: a 32 KiB panel, a row of codes and 16 x kp; the 256-bit and NEON panels take 16 KiB.
  const size_t panels = 33 * 1024 + 16 * kp;
  const size_t short_m = 12 * kp + (m + 31) / 32 * 32 * kp;  // AVX-512 short-M kernel (M <= 256)
  return m <= 256 && short_m > panels ? short_m : panels;
}

struct TernaryKernels {
  // out[m * ldo + n] = sum_k code(w[n, k]) * x[m, k] for m in [0, M), n in [n0, n1); n0 is a
  // multiple of 4. x: M rows of kp int8 (stride ldx bytes); w: a tl256 matrix.
  void (*dot_codes)(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
                    int32_t* out, size_t ldo, uint8_t* scratch);
  // row[j] = float((double(dot[j] - xsum) * wscale[j or 0]) / xscale) for j in [n0, n1), in place
  // over the int32 dots dot_codes wrote into row. Float64 arithmetic rounded once: bit-exact
  // with a float64 reference, and identical in every variant (IEEE operations are exact-rounded).
  void (*scale)(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row);
};

// The scalar scale(), shared by variants without a vector one.
void scale_dots_ref(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row);

extern const TernaryKernels kTernaryScalar;
extern const TernaryKernels kTernaryAvx2;
extern const TernaryKernels kTernaryAvxVnni;
extern const TernaryKernels kTernaryAvx512;
extern const TernaryKernels kTernaryNeon;
extern const TernaryKernels kTernaryNeonDotprod;
extern const TernaryKernels kTernaryNeonI8mm;

const KernelFamily<TernaryKernels>& ternary_family();

}  // namespace bitnet
