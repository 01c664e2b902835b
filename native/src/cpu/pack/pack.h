// Kernel family "pack": layouts of ternary weights (code = w + 1, 2 bits a weight).
// - tl256: the kernels' layout (see cpu/ternary/ternary.h), rows padded to 256 weights.
// - i2s:   bitnet.cpp's I2_S (x86): blocks of 128 weights in 32 bytes along each row; byte j
//          holds weights j, j+32, j+64, j+96 at bit offsets 6, 4, 2, 0. K % 128 == 0.
// - hf:    Hugging Face BitNet: uint8 [N/4, K]; byte [r, c] holds rows r, r+R, r+2R, r+3R
//          (R = N/4) of column c at bits 0, 2, 4, 6. N % 4 == 0.
// ref.cc walks the byte rule weight by weight (the reference, and the definition of which bad
// element is reported); the variants run whole-row loops (impl.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/kernel_types.h"
#include "core/registry.h"

namespace bitnet {

// TernaryLayout and packed_ternary_bytes(): core/kernel_types.h.

struct PackKernels {
  // Packs rows [r0, r1) of w (int8 values in {-1, 0, 1}, [n, k] row-major). Returns the flat
  // index of the first value outside {-1, 0, 1}, or SIZE_MAX. For hf, rows are the N/4 packed
  // rows. `out` must be zero-initialised for tl256 padding.
  size_t (*pack)(TernaryLayout layout, const int8_t* w, size_t n, size_t k, size_t r0, size_t r1, uint8_t* out);
  // Unpacks rows [r0, r1) to int8. Returns the flat index of the first invalid code (3), or SIZE_MAX.
  size_t (*unpack)(TernaryLayout layout, const uint8_t* packed, size_t n, size_t k, size_t r0, size_t r1, int8_t* w);
};

extern const PackKernels kPackScalar;
extern const PackKernels kPackAvx2;
extern const PackKernels kPackNeon;
const KernelFamily<PackKernels>& pack_family();

}  // namespace bitnet
