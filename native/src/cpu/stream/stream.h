// Kernel family "stream": reads memory as fast as the core can, for the roofline the
// benchmarks compare kernels against. Returns a checksum so the loads cannot be elided.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/registry.h"

namespace bitnet {

struct StreamKernels {
  // XOR of the 64-bit words of [data, data + bytes); bytes is a multiple of 8.
  uint64_t (*read)(const uint8_t* data, size_t bytes);
};

// XOR of the 64-bit words in [data + i, data + bytes): the tail every variant finishes with.
static inline uint64_t xor_words(const uint8_t* data, size_t i, size_t bytes) {
  uint64_t r = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t v;
    std::memcpy(&v, data + i, 8);
    r ^= v;
  }
  return r;
}

extern const StreamKernels kStreamScalar;
extern const StreamKernels kStreamAvx2;
extern const StreamKernels kStreamAvx512;
extern const StreamKernels kStreamNeon;
const KernelFamily<StreamKernels>& stream_family();

}  // namespace bitnet
