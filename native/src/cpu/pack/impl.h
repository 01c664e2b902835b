// Packing loops for every layout, written once as plain loops over whole rows and blocks that the
// compiler vectorises, and compiled per ISA (ref.cc uses the tl256 packer; avx2.cc and neon.cc
// use all of them). A row is validated before it is written (a max over its codes, which
// vectorises); when a row holds an invalid value the variant defers to the scalar reference's
// per-weight walk, which defines the reported index. Internal linkage: see core/registry.h.
#pragma once
#include <algorithm>
#include <cstring>
#include <limits>

#include "cpu/pack/pack.h"
#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {
namespace pack_impl {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Whether every value of w[0, len) is in {-1, 0, 1} (code w + 1 at most 2, as a byte).
inline bool valid_values(const int8_t* w, size_t len) {
  uint8_t top = 0;
  for (size_t i = 0; i < len; ++i) {
    const uint8_t code = static_cast<uint8_t>(w[i] + 1);
    top = code > top ? code : top;
  }
  return top <= 2;
}

inline uint8_t code(int8_t v) { return static_cast<uint8_t>(v + 1); }

// tl256 row r (validated): byte j of a block holds weights j, j + 64, j + 128, j + 192 at bit
// offsets 0, 2, 4, 6; the padding fields of a last partial block keep the caller's code 1.
inline void pack_tl256_row(const int8_t* wr, size_t k, size_t r, uint8_t* out) {
  const size_t kp = ternary_padded_k(k);
  for (size_t b = 0; b * kTernaryBlock < k; ++b) {
    uint8_t* o = out + tl256_offset(kp, r, b);
    const int8_t* blk = wr + b * kTernaryBlock;
    if ((b + 1) * kTernaryBlock <= k) {
      for (size_t j = 0; j < kTernaryBlockBytes; ++j)
        o[j] = static_cast<uint8_t>(code(blk[j]) | (code(blk[j + 64]) << 2) | (code(blk[j + 128]) << 4) | (code(blk[j + 192]) << 6));
    } else {
      for (size_t c = 0; c < k - b * kTernaryBlock; ++c) {
        const int shift = static_cast<int>(2 * (c / 64));
        o[c % 64] = static_cast<uint8_t>((o[c % 64] & ~(3u << shift)) | (static_cast<unsigned>(code(blk[c])) << shift));
      }
    }
  }
}

// Returns the largest code written (3 marks an invalid one).
inline uint8_t unpack_tl256_row(const uint8_t* in, size_t k, size_t r, int8_t* wr) {
  const size_t kp = ternary_padded_k(k);
  uint8_t top = 0;
  for (size_t b = 0; b * kTernaryBlock < k; ++b) {
    const uint8_t* blk = in + tl256_offset(kp, r, b);
    const size_t len = std::min(kTernaryBlock, k - b * kTernaryBlock);
    for (size_t f = 0; f < 4; ++f) {
      const size_t c0 = 64 * f;
      if (c0 >= len) break;
      const size_t cn = std::min<size_t>(64, len - c0);
      for (size_t j = 0; j < cn; ++j) {
        const uint8_t c = (blk[j] >> (2 * f)) & 3;
        top = c > top ? c : top;
        wr[b * kTernaryBlock + c0 + j] = static_cast<int8_t>(c - 1);
      }
    }
  }
  return top;
}

// I2_S row (k a multiple of 128): 32 bytes per 128 weights; byte j holds j, j + 32, j + 64,
// j + 96 at bits 6, 4, 2, 0.
inline void pack_i2s_row(const int8_t* wr, size_t k, uint8_t* o) {
  for (size_t t = 0; t < k / 128; ++t) {
    const int8_t* s = wr + 128 * t;
    for (size_t j = 0; j < 32; ++j)
      o[32 * t + j] = static_cast<uint8_t>((code(s[j]) << 6) | (code(s[j + 32]) << 4) | (code(s[j + 64]) << 2) | code(s[j + 96]));
  }
}

inline uint8_t unpack_i2s_row(const uint8_t* in, size_t k, int8_t* wr) {
  uint8_t top = 0;
  for (size_t t = 0; t < k / 128; ++t) {
    for (size_t u = 0; u < 4; ++u) {
      for (size_t j = 0; j < 32; ++j) {
        const uint8_t c = (in[32 * t + j] >> (6 - 2 * u)) & 3;
        top = c > top ? c : top;
        wr[128 * t + 32 * u + j] = static_cast<int8_t>(c - 1);
      }
    }
  }
  return top;
}

// Hugging Face packed row pr (R = n / 4): byte c holds column c of rows pr, pr + R, pr + 2R,
// pr + 3R at bits 0, 2, 4, 6.
inline void pack_hf_row(const int8_t* w, size_t quarter, size_t k, size_t pr, uint8_t* o) {
  const int8_t* a = w + pr * k;
  const int8_t* b = a + quarter * k;
  const int8_t* c = b + quarter * k;
  const int8_t* d = c + quarter * k;
  for (size_t j = 0; j < k; ++j)
    o[j] = static_cast<uint8_t>(code(a[j]) | (code(b[j]) << 2) | (code(c[j]) << 4) | (code(d[j]) << 6));
}

inline uint8_t unpack_hf_row(const uint8_t* in, size_t quarter, size_t k, size_t pr, int8_t* w) {
  uint8_t top = 0;
  for (size_t g = 0; g < 4; ++g) {
    int8_t* row = w + (pr + g * quarter) * k;
    for (size_t j = 0; j < k; ++j) {
      const uint8_t c = (in[j] >> (2 * g)) & 3;
      top = c > top ? c : top;
      row[j] = static_cast<int8_t>(c - 1);
    }
  }
  return top;
}

// pack/unpack of PackKernels; `reference` (the scalar table) finds the index of a bad element.
inline size_t pack(const PackKernels& reference, TernaryLayout layout, const int8_t* w, size_t n, size_t k, size_t r0, size_t r1,
                   uint8_t* out) {
  const size_t quarter = n / 4;
  for (size_t r = r0; r < r1; ++r) {
    const bool ok = layout == TernaryLayout::Hf
                        ? valid_values(w + r * k, k) && valid_values(w + (r + quarter) * k, k) &&
                              valid_values(w + (r + 2 * quarter) * k, k) && valid_values(w + (r + 3 * quarter) * k, k)
                        : valid_values(w + r * k, k);
    if (!ok) return reference.pack(layout, w, n, k, r, r1, out);
    switch (layout) {
      case TernaryLayout::Tl256: pack_tl256_row(w + r * k, k, r, out); break;
      case TernaryLayout::I2s: pack_i2s_row(w + r * k, k, out + r * k / 4); break;
      case TernaryLayout::Hf: pack_hf_row(w, quarter, k, r, out + r * k); break;
    }
  }
  return kNone;
}

inline size_t unpack(const PackKernels& reference, TernaryLayout layout, const uint8_t* packed, size_t n, size_t k, size_t r0,
                     size_t r1, int8_t* w) {
  for (size_t r = r0; r < r1; ++r) {
    uint8_t top = 0;
    switch (layout) {
      case TernaryLayout::Tl256: top = unpack_tl256_row(packed, k, r, w + r * k); break;
      case TernaryLayout::I2s: top = unpack_i2s_row(packed + r * k / 4, k, w + r * k); break;
      case TernaryLayout::Hf: top = unpack_hf_row(packed + r * k, n / 4, k, r, w); break;
    }
    if (top > 2) return reference.unpack(layout, packed, n, k, r, r1, w);
  }
  return kNone;
}

}  // namespace pack_impl
}  // namespace
}  // namespace bitnet
