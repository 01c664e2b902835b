// The backend interface: everything a device must provide. The CPU backend is the first
// implementation; a Metal backend will implement the same interface beside it. The binding
// talks only to this interface, never to a kernel family directly.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/dtype.h"
#include "core/registry.h"
#include "core/strided.h"

namespace bitnet {

enum class Device { Cpu, Metal };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual const char* name() const = 0;

  // Storage: 64-byte aligned; nullptr when the memory cannot be had.
  virtual Allocation* allocate(size_t bytes, bool zero) = 0;
  virtual void release(Allocation* a) = 0;

  // Converts n elements between f32 and f16/bf16 (round-to-nearest-even).
  virtual void convert(DType from, const void* in, DType to, void* out, size_t n) = 0;
  virtual void strided_copy(const StridedCopy& c) = 0;

  // The kernel families with the variant each would use now.
  virtual std::vector<FamilyInfo> families() const = 0;
};

Backend& cpu_backend();

// "cpu", "metal" or "auto". Throws bitnet::RangeError for an unknown name and bitnet::Error-like
// std::runtime_error when the device is not built into this addon.
Backend& backend_for(const std::string& device);
bool metal_built();

}  // namespace bitnet
