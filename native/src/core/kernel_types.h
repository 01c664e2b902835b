// The typed arguments of the Backend interface: layouts, formats, modes and op codes, with the
// sizes they imply. Both the binding (to validate lengths) and the kernels (to lay data out) use
// these, so they live here rather than in a kernel family. Functions are static inline: ISA
// variant files include this header, and a shared inline function would be merged across them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitnet {

// Ternary weights, "tl256" blocks (see cpu/ternary/ternary.h): 256 weights in 64 bytes.
constexpr size_t kTernaryBlock = 256;
constexpr size_t kTernaryBlockBytes = 64;
// Row length of int8 activations and tl256 weights: K padded to whole blocks.
static inline size_t ternary_padded_k(size_t k) { return (k + kTernaryBlock - 1) / kTernaryBlock * kTernaryBlock; }
// tl256 stores rows in groups of four.
static inline size_t ternary_padded_n(size_t n) { return (n + 3) / 4 * 4; }

// Packed ternary layouts (see cpu/pack/pack.h): the kernels' own, bitnet.cpp's I2_S, Hugging Face's.
enum class TernaryLayout { Tl256, I2s, Hf };

// Bytes of packed data for an [n, k] matrix in `layout` (i2s needs k % 128 == 0, hf n % 4 == 0).
static inline size_t packed_ternary_bytes(TernaryLayout layout, size_t n, size_t k) {
  switch (layout) {
    case TernaryLayout::Tl256: return ternary_padded_n(n) * (ternary_padded_k(k) / 4);
    case TernaryLayout::I2s: return n * k / 4;
    case TernaryLayout::Hf: return n / 4 * k;
  }
  return 0;
}

// Absmean weight quantization granularity: one scale per tensor (the recipe), per output row, or
// per group of 128 consecutive weights of a row (for experiments).
enum class WeightScaleMode { Tensor, Channel, Group128 };
constexpr size_t kWeightGroup = 128;

static inline size_t weight_scale_count(WeightScaleMode mode, size_t n, size_t k) {
  switch (mode) {
    case WeightScaleMode::Tensor: return 1;
    case WeightScaleMode::Channel: return n;
    case WeightScaleMode::Group128: return n * ((k + kWeightGroup - 1) / kWeightGroup);
  }
  return 0;
}

// Dense weight formats (see cpu/dense/dense.h); int8 rows are padded to kDenseInt8Align.
enum class DenseFormat { F32, F16, Bf16, Int8 };
constexpr size_t kDenseInt8Align = 64;

// Element-wise maps (see cpu/elementwise/elementwise.h); Relu2 reads only its first operand.
enum class ElementwiseOp : int { Add = 0, Sub = 1, Mul = 2, Div = 3, Relu2 = 4, Relu2Backward = 5 };

}  // namespace bitnet
