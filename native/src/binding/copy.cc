// Bindings of family "copy": strided copies between typed arrays of one element type.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

constexpr int64_t kMaxIndex = (int64_t(1) << 53);

bool overlaps(const uint8_t* a, size_t a_bytes, const uint8_t* b, size_t b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && a < b + b_bytes && b < a + a_bytes;
}

// Largest element index reached by (offset, strides, shape), or -1 for an empty shape.
int64_t max_index(const Args& args, const char* name, int64_t offset, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides) {
  __int128 top = offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return -1;
    top += static_cast<__int128>(shape[d] - 1) * strides[d];
  }
  if (top >= kMaxIndex) args.range_error(name, "strides whose last element index is below 2^53", "a larger span");
  return static_cast<int64_t>(top);
}

std::string format_ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Whether two different indices of a non-empty (shape, strides) may reach the same element.
// Sufficient test for "no": the dimensions of size > 1, taken in order of increasing stride,
// must each step past everything the smaller ones span. This is what every dense layout and
// every view made by slicing or permuting one satisfies. (It rejects a few exotic interleaved
// layouts that do not overlap; none of them can be written through this binding.)
bool may_self_overlap(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size)
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] > 1) dims.emplace_back(strides[d], shape[d]);
  }
  std::sort(dims.begin(), dims.end());
  __int128 span = 0;  // largest element offset the dimensions so far reach
  for (const auto& [stride, size] : dims) {
    if (stride <= span) return true;
    span += static_cast<__int128>(size - 1) * stride;
  }
  return false;
}

Napi::Value StridedCopyBinding(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)", 7);
    const auto any = {napi_int8_array, napi_uint8_array, napi_int16_array, napi_uint16_array, napi_int32_array,
                      napi_uint32_array, napi_float32_array, napi_float64_array};
    // The plain arrays are read first: reading one can run JS (element getters), which could free
    // a buffer after its pointer was taken. Nothing after typed() runs JS.
    const int64_t src_offset = args.integer(1, "srcOffset", 0, kMaxIndex);
    const int64_t dst_offset = args.integer(4, "dstOffset", 0, kMaxIndex);
    const std::vector<int64_t> shape = args.integers(6, "shape", kMaxDims, 0, kMaxIndex);
    const std::vector<int64_t> src_strides = args.integers(2, "srcStrides", kMaxDims, 0, kMaxIndex);
    const std::vector<int64_t> dst_strides = args.integers(5, "dstStrides", kMaxDims, 0, kMaxIndex);
    TypedView src = args.typed(0, "src", any);
    TypedView dst = args.typed(3, "dst", any);
    if (dst.elem_size != src.elem_size) {
      args.type_error("dst", "a typed array with " + std::to_string(src.elem_size) + "-byte elements like src",
                      dst.array);
    }
    const std::string rank = "an array of length " + std::to_string(shape.size()) + " (the rank of shape)";
    if (src_strides.size() != shape.size()) {
      args.range_error("srcStrides", rank, "length " + std::to_string(src_strides.size()));
    }
    if (dst_strides.size() != shape.size()) {
      args.range_error("dstStrides", rank, "length " + std::to_string(dst_strides.size()));
    }
    const int64_t src_top = max_index(args, "srcStrides", src_offset, shape, src_strides);
    const int64_t dst_top = max_index(args, "dstStrides", dst_offset, shape, dst_strides);
    if (src_top < 0) return info.Env().Undefined();  // nothing to copy
    // Two elements written to one place would race between threads, and with zero strides the
    // element count (and the work) would be unbounded by any buffer length.
    if (may_self_overlap(shape, dst_strides)) {
      args.range_error("dstStrides", "strides giving every element of shape " + format_ints(shape) +
                                         " its own place in dst (no zero or overlapping strides)",
                       format_ints(dst_strides));
    }
    if (src_top >= static_cast<int64_t>(src.length)) {
      args.range_error("src", "long enough for element index " + std::to_string(src_top),
                       "length " + std::to_string(src.length));
    }
    if (dst_top >= static_cast<int64_t>(dst.length)) {
      args.range_error("dst", "long enough for element index " + std::to_string(dst_top),
                       "length " + std::to_string(dst.length));
    }
    const size_t es = src.elem_size;
    if (overlaps(src.data + src_offset * es, (src_top - src_offset + 1) * es, dst.data + dst_offset * es,
                 (dst_top - dst_offset + 1) * es)) {
      args.range_error("dst", "memory that does not overlap src", "an overlapping view");
    }
    StridedCopy c;
    c.src = src.data + src_offset * es;
    c.dst = dst.data + dst_offset * es;
    c.elem_size = es;
    c.ndim = static_cast<int>(shape.size());
    for (int d = 0; d < c.ndim; ++d) {
      c.shape[d] = shape[d];
      c.src_strides[d] = src_strides[d];
      c.dst_strides[d] = dst_strides[d];
    }
    backend_of(src).strided_copy(c);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_copy(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "stridedCopy", StridedCopyBinding, "copy");
}

namespace {
const BindingRegistration kRegistration(register_copy);
}  // namespace

}  // namespace binding
}  // namespace bitnet
