// Kernel family "ternary": int8 activations x packed ternary weights -> exact int32 dots.
//
// Weight layout "tl256" (the kernels' internal layout, repacked once at load): each row of K
// weights is padded to Kp = ceil(K / 256) * 256 with zeros and stored as Kp / 4 bytes. A block
// of 256 weights takes 64 bytes; byte j of a block holds weights j, j+64, j+128, j+192 at bit
// offsets 0, 2, 4, 6; the 2-bit code is w + 1 (0 = -1, 1 = 0, 2 = +1). Field k of a byte then
// pairs with the contiguous activation slice [64k, 64k+64) of the block, so SIMD variants need
// only a mask (no shuffles) to line codes up with activations.
//
// Activations: int8 rows of Kp bytes (zero padded). The kernels compute dot(code, x); the
// caller subtracts sum(x) to get dot(w, x) (code = w + 1). All arithmetic is exact int32, so
// every variant and thread count gives identical results.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/registry.h"

namespace bitnet {

constexpr size_t kTernaryBlock = 256;  // weights per packed block
constexpr size_t kTernaryBlockBytes = 64;

inline size_t ternary_padded_k(size_t k) { return (k + kTernaryBlock - 1) / kTernaryBlock * kTernaryBlock; }

// Rows of weights a GEMM variant unpacks at once; the caller provides
// ternary_scratch_bytes(kp) bytes of 64-byte aligned scratch per thread.
constexpr size_t kTernaryTileRows = 16;
inline size_t ternary_scratch_bytes(size_t kp) { return kTernaryTileRows * kp; }

struct TernaryKernels {
  // out[m * ldo + n] = sum_k code(w[n, k]) * x[m, k] for m in [0, M), n in [n0, n1).
  // x: M rows of kp int8 (stride ldx bytes); w: rows of kp/4 bytes (stride ldw bytes).
  void (*dot_codes)(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t ldw, size_t kp, size_t n0,
                    size_t n1, int32_t* out, size_t ldo, uint8_t* scratch);
};

extern const TernaryKernels kTernaryScalar;
extern const TernaryKernels kTernaryAvx2;
extern const TernaryKernels kTernaryAvx512;
extern const TernaryKernels kTernaryNeon;

const KernelFamily<TernaryKernels>& ternary_family();

}  // namespace bitnet
