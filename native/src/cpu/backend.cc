// The CPU implementation of the backend interface: kernel families dispatched by ISA, work split
// over the thread pool.
#include <stdexcept>

#include "core/backend.h"
#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/convert/convert.h"
#include "cpu/copy/copy.h"

namespace bitnet {
namespace {

// Below this many elements, waking the workers costs more than the conversion.
constexpr size_t kConvertChunk = 1 << 16;
constexpr size_t kCopyChunkBytes = 1 << 16;

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::Cpu; }
  const char* name() const override { return "cpu"; }

  Allocation* allocate(size_t bytes, bool zero) override { return bitnet::allocate(bytes, zero); }
  void release(Allocation* a) override { bitnet::release(a); }

  void convert(DType from, const void* in, DType to, void* out, size_t n) override {
    const ConvertKernels& k = convert_family().active();
    if (from == DType::F32 && to == DType::F16) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f32_to_f16(static_cast<const float*>(in) + b, static_cast<uint16_t*>(out) + b, e - b);
      });
    } else if (from == DType::F32 && to == DType::BF16) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f32_to_bf16(static_cast<const float*>(in) + b, static_cast<uint16_t*>(out) + b, e - b);
      });
    } else if (from == DType::F16 && to == DType::F32) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f16_to_f32(static_cast<const uint16_t*>(in) + b, static_cast<float*>(out) + b, e - b);
      });
    } else if (from == DType::BF16 && to == DType::F32) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.bf16_to_f32(static_cast<const uint16_t*>(in) + b, static_cast<float*>(out) + b, e - b);
      });
    } else {
      throw RangeError(std::string("convert supports f32 <-> f16/bf16, received ") + dtype_name(from) +
                       " -> " + dtype_name(to));
    }
  }

  void strided_copy(const StridedCopy& c) override {
    const CopyKernels& k = copy_family().active();
    size_t rows = 1;
    for (int d = 0; d + 1 < c.ndim; ++d) rows *= static_cast<size_t>(c.shape[d]);
    const size_t row_bytes = c.ndim > 0 ? static_cast<size_t>(c.shape[c.ndim - 1]) * c.elem_size : c.elem_size;
    if (rows == 0 || row_bytes == 0) return;
    const size_t min_rows = row_bytes >= kCopyChunkBytes ? 1 : kCopyChunkBytes / row_bytes;
    parallel_for(rows, min_rows, [&](size_t b, size_t e) { k.copy_rows(c, b, e); });
  }

  std::vector<FamilyInfo> families() const override {
    return {describe_family(convert_family()), describe_family(copy_family())};
  }

 private:
  template <class F>
  void run_chunked(size_t n, F&& f) {
    parallel_for(n, kConvertChunk, f);
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

bool metal_built() {
#ifdef BITNET_HAVE_METAL
  return true;
#else
  return false;
#endif
}

Backend& backend_for(const std::string& device) {
  if (device == "cpu" || device == "auto") return cpu_backend();
  if (device == "metal") {
    throw std::runtime_error(
        "device 'metal' is not available: this bitnet-lab addon was built without the Metal "
        "backend (it needs macOS and BITNET_METAL=ON); use device 'cpu' or 'auto'");
  }
  throw RangeError("device must be one of 'cpu', 'metal', 'auto', received '" + device + "'");
}

}  // namespace bitnet
