#include <cstring>

#include "cpu/copy/copy.h"

namespace bitnet {
namespace {

template <class T>
void copy_strided_row(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds) {
  const T* src = reinterpret_cast<const T*>(s);
  T* dst = reinterpret_cast<T*>(d);
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, sizeof(T));
}

void copy_rows(const StridedCopy& c, size_t row_begin, size_t row_end) {
  if (c.ndim == 0) {
    std::memcpy(c.dst, c.src, c.elem_size);
    return;
  }
  const int last = c.ndim - 1;
  const int64_t n = c.shape[last];
  const int64_t ss = c.src_strides[last], ds = c.dst_strides[last];
  // Multi-index of the first row, from its linear row number.
  int64_t idx[kMaxDims] = {};
  size_t rem = row_begin;
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = static_cast<int64_t>(rem % static_cast<size_t>(c.shape[d]));
    rem /= static_cast<size_t>(c.shape[d]);
  }
  for (size_t row = row_begin; row < row_end; ++row) {
    int64_t so = 0, dof = 0;
    for (int d = 0; d < last; ++d) {
      so += idx[d] * c.src_strides[d];
      dof += idx[d] * c.dst_strides[d];
    }
    const uint8_t* s = c.src + so * static_cast<int64_t>(c.elem_size);
    uint8_t* dd = c.dst + dof * static_cast<int64_t>(c.elem_size);
    if (ss == 1 && ds == 1) {
      std::memcpy(dd, s, static_cast<size_t>(n) * c.elem_size);
    } else {
      switch (c.elem_size) {
        case 1: copy_strided_row<uint8_t>(s, dd, n, ss, ds); break;
        case 2: copy_strided_row<uint16_t>(s, dd, n, ss, ds); break;
        case 4: copy_strided_row<uint32_t>(s, dd, n, ss, ds); break;
        default: copy_strided_row<uint64_t>(s, dd, n, ss, ds); break;
      }
    }
    for (int d = last - 1; d >= 0; --d) {
      if (++idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

const CopyKernels kCopyScalar = {copy_rows};

}  // namespace bitnet
