// The strided copy, row by row (the reference, ref.cc) and with transposed tiles (the variants):
// a copy whose last dimension is strided in the source but whose second-to-last is contiguous
// (a transpose made contiguous) walks a column of the source per output row, one cache line per
// element. The variants copy it in square tiles instead: Tile::kSize source columns of kSize
// contiguous elements are loaded, transposed in registers and stored as kSize output rows (one
// line per row). Included only by the family's files (internal linkage: see core/registry.h).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/copy/copy.h"

namespace bitnet {
namespace {
namespace copy_impl {

template <class T>
inline void strided_row(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds) {
  const T* src = reinterpret_cast<const T*>(s);
  T* dst = reinterpret_cast<T*>(d);
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, sizeof(T));
}

inline void copy_row(const StridedCopy& c, const uint8_t* s, uint8_t* d) {
  const int last = c.ndim - 1;
  const int64_t n = c.shape[last], ss = c.src_strides[last], ds = c.dst_strides[last];
  if (ss == 1 && ds == 1) {
    std::memcpy(d, s, static_cast<size_t>(n) * c.elem_size);
    return;
  }
  switch (c.elem_size) {
    case 1: strided_row<uint8_t>(s, d, n, ss, ds); break;
    case 2: strided_row<uint16_t>(s, d, n, ss, ds); break;
    case 4: strided_row<uint32_t>(s, d, n, ss, ds); break;
    default: strided_row<uint64_t>(s, d, n, ss, ds); break;
  }
}

// Walks rows [row_begin, row_end) of the copy viewed as (prod(shape[:-1]), shape[-1]); for each
// run of consecutive rows within one second-to-last dimension it calls
// run(src, dst, rows, p) with p the run's position along that dimension, then advances.
template <class Run>
inline void walk_rows(const StridedCopy& c, size_t row_begin, size_t row_end, size_t max_run, Run&& run) {
  const int last = c.ndim - 1;
  int64_t idx[kMaxDims] = {};
  size_t rem = row_begin;
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = static_cast<int64_t>(rem % static_cast<size_t>(c.shape[d]));
    rem /= static_cast<size_t>(c.shape[d]);
  }
  const int64_t es = static_cast<int64_t>(c.elem_size);
  for (size_t row = row_begin; row < row_end;) {
    int64_t so = 0, dof = 0;
    for (int d = 0; d < last; ++d) {
      so += idx[d] * c.src_strides[d];
      dof += idx[d] * c.dst_strides[d];
    }
    size_t rows = 1;
    if (last >= 1) {
      const size_t left = static_cast<size_t>(c.shape[last - 1] - idx[last - 1]);
      rows = std::min(std::min(max_run, left), row_end - row);
    }
    run(c.src + so * es, c.dst + dof * es, rows);
    row += rows;
    for (int d = last - 1; d >= 0; --d) {
      idx[d] += d == last - 1 ? static_cast<int64_t>(rows) : 1;
      if (idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// The reference: every row on its own.
inline void copy_rows_plain(const StridedCopy& c, size_t row_begin, size_t row_end) {
  if (c.ndim == 0) {
    std::memcpy(c.dst, c.src, c.elem_size);
    return;
  }
  const int last = c.ndim - 1;
  const int64_t es = static_cast<int64_t>(c.elem_size);
  const int64_t src_row = last >= 1 ? c.src_strides[last - 1] * es : 0, dst_row = last >= 1 ? c.dst_strides[last - 1] * es : 0;
  walk_rows(c, row_begin, row_end, SIZE_MAX, [&](const uint8_t* s, uint8_t* d, size_t rows) {
    for (size_t r = 0; r < rows; ++r) copy_row(c, s + static_cast<int64_t>(r) * src_row, d + static_cast<int64_t>(r) * dst_row);
  });
}

// Plain loops over one tile, for element sizes without a register transpose.
template <class T, size_t K>
struct LoopTile {
  static constexpr size_t kSize = K;
  // dst[r * drs + j] = src[j * scs + r] for r, j < K.
  static void run(const T* src, int64_t scs, T* dst, int64_t drs) {
    for (size_t r = 0; r < K; ++r)
      for (size_t j = 0; j < K; ++j) dst[static_cast<int64_t>(r) * drs + j] = src[static_cast<int64_t>(j) * scs + r];
  }
};

// The transposed-tile copy of a run of `rows` output rows: Tile for full tiles, plain loops for
// the edges.
template <class T, class Tile>
inline void transpose_run(const StridedCopy& c, const uint8_t* s, uint8_t* d, size_t rows) {
  const int last = c.ndim - 1;
  const int64_t n = c.shape[last], ss = c.src_strides[last], drs = c.dst_strides[last - 1];
  const T* src = reinterpret_cast<const T*>(s);
  T* dst = reinterpret_cast<T*>(d);
  constexpr int64_t k = static_cast<int64_t>(Tile::kSize);
  if (rows == Tile::kSize) {
    int64_t j = 0;
    for (; j + k <= n; j += k) Tile::run(src + j * ss, ss, dst + j, drs);
    for (; j < n; ++j)
      for (int64_t r = 0; r < k; ++r) dst[r * drs + j] = src[j * ss + r];
    return;
  }
  for (size_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) dst[static_cast<int64_t>(r) * drs + j] = src[j * ss + static_cast<int64_t>(r)];
}

// The variants' copy: transposed tiles when the source's second-to-last dimension is contiguous
// and its last is not, while the destination's last is; rows otherwise. Tiles<T> names the tile
// kernel for elements of type T.
template <template <class> class Tiles>
inline void copy_rows(const StridedCopy& c, size_t row_begin, size_t row_end) {
  const int last = c.ndim - 1;
  const bool transpose = c.ndim >= 2 && c.src_strides[last] != 1 && c.dst_strides[last] == 1 && c.src_strides[last - 1] == 1 &&
                         c.shape[last] >= 4 && c.shape[last - 1] >= 4;
  if (!transpose) return copy_rows_plain(c, row_begin, row_end);
  const auto go = [&](auto tag) {
    using T = decltype(tag);
    using Tile = Tiles<T>;
    walk_rows(c, row_begin, row_end, Tile::kSize, [&](const uint8_t* s, uint8_t* d, size_t rows) { transpose_run<T, Tile>(c, s, d, rows); });
  };
  switch (c.elem_size) {
    case 1: go(uint8_t{}); break;
    case 2: go(uint16_t{}); break;
    case 4: go(uint32_t{}); break;
    default: go(uint64_t{}); break;
  }
}

}  // namespace copy_impl
}  // namespace
}  // namespace bitnet
