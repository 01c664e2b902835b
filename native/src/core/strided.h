// Descriptor of an N-d strided copy, shared by the backend interface and the copy kernels.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitnet {

constexpr int kMaxDims = 16;

struct StridedCopy {
  const uint8_t* src = nullptr;  // first element (offset applied)
  uint8_t* dst = nullptr;        // first element (offset applied)
  size_t elem_size = 4;          // 1, 2, 4 or 8 bytes
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t src_strides[kMaxDims] = {};  // in elements, non-negative
  int64_t dst_strides[kMaxDims] = {};  // in elements, non-negative
};

}  // namespace bitnet
