// Kernel family "stream": reads memory as fast as the core can, for the roofline the
// benchmarks compare kernels against. Returns a checksum so the loads cannot be elided.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/registry.h"

namespace bitnet {

struct StreamKernels {
  // XOR of the 64-bit words of [data, data + bytes); bytes is a multiple of 8.
  uint64_t (*read)(const uint8_t* data, size_t bytes);
};

extern const StreamKernels kStreamScalar;
extern const StreamKernels kStreamAvx2;
extern const StreamKernels kStreamAvx512;
const KernelFamily<StreamKernels>& stream_family();

}  // namespace bitnet
