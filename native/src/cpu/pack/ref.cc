#include <cstring>
#include <limits>

#include "cpu/pack/impl.h"

namespace bitnet {

namespace {

using pack_impl::kNone;

// Byte index and bit offset of weight (row, col) in each layout.
inline void locate(TernaryLayout layout, size_t n, size_t k, size_t row, size_t col, size_t* byte, int* shift) {
  switch (layout) {
    case TernaryLayout::Tl256: {
      const size_t within = col % 256;
      *byte = tl256_offset(ternary_padded_k(k), row, col / 256) + within % 64;
      *shift = static_cast<int>(2 * (within / 64));
      return;
    }
    case TernaryLayout::I2s: {
      const size_t flat = row * k + col;
      const size_t block = flat / 128, within = flat % 128;
      *byte = block * 32 + within % 32;
      *shift = static_cast<int>(6 - 2 * (within / 32));
      return;
    }
    case TernaryLayout::Hf: {
      const size_t quarter = n / 4;
      *byte = (row % quarter) * k + col;
      *shift = static_cast<int>(2 * (row / quarter));
      return;
    }
  }
}

// Calls fn(flat index, byte, shift) for every weight of rows [r0, r1): weight rows for tl256 and
// i2s, packed rows (each covering four weight rows) for hf. Stops at the first fn returning
// false and returns that flat index, or kNone.
template <class F>
size_t for_each_weight(TernaryLayout layout, size_t n, size_t k, size_t r0, size_t r1, F&& fn) {
  const size_t quarter = n / 4;
  const size_t groups = layout == TernaryLayout::Hf ? 4 : 1;
  for (size_t pr = r0; pr < r1; ++pr) {
    for (size_t g = 0; g < groups; ++g) {
      const size_t row = layout == TernaryLayout::Hf ? pr + g * quarter : pr;
      for (size_t c = 0; c < k; ++c) {
        size_t byte = 0;
        int shift = 0;
        locate(layout, n, k, row, c, &byte, &shift);
        if (!fn(row * k + c, byte, shift)) return row * k + c;
      }
    }
  }
  return kNone;
}

size_t pack(TernaryLayout layout, const int8_t* w, size_t n, size_t k, size_t r0, size_t r1, uint8_t* out) {
  // tl256 is packed on every BitLinear forward of training: valid rows take the vectorised
  // block loop (the per-weight walk cost ~2 ns a weight); the walk defines the error index.
  if (layout == TernaryLayout::Tl256) {
    for (size_t r = r0; r < r1; ++r) {
      if (!pack_impl::valid_values(w + r * k, k)) break;
      pack_impl::pack_tl256_row(w + r * k, k, r, out);
      r0 = r + 1;
    }
    if (r0 == r1) return kNone;
  }
  return for_each_weight(layout, n, k, r0, r1, [&](size_t i, size_t byte, int shift) {
    const int8_t v = w[i];
    if (v < -1 || v > 1) return false;
    out[byte] = static_cast<uint8_t>((out[byte] & ~(3u << shift)) | (static_cast<unsigned>(v + 1) << shift));
    return true;
  });
}

size_t unpack(TernaryLayout layout, const uint8_t* packed, size_t n, size_t k, size_t r0, size_t r1, int8_t* w) {
  return for_each_weight(layout, n, k, r0, r1, [&](size_t i, size_t byte, int shift) {
    const unsigned code = (packed[byte] >> shift) & 3u;
    if (code == 3) return false;
    w[i] = static_cast<int8_t>(static_cast<int>(code) - 1);
    return true;
  });
}

}  // namespace

const PackKernels kPackScalar = {pack, unpack};

}  // namespace bitnet
