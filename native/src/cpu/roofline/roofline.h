// Kernel family "roofline": the peaks the benchmarks compare kernels against, measured on this
// machine with each ISA's own instructions. read: memory read as fast as the core can (a
// checksum, so the loads cannot be elided). int8_dot: the int8 multiply-accumulate chain each
// ISA's kernels are built on, operands in registers (AVX2 maddubs + madd + add, AVX-VNNI and
// AVX-512 vpdpbusd, NEON smull/smlal + sadalp, sdot, smmla), with enough independent chains to
// hide their latency.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/registry.h"

namespace bitnet {

struct RooflineKernels {
  // XOR of the 64-bit words of [data, data + bytes); bytes is a multiple of 8.
  uint64_t (*read)(const uint8_t* data, size_t bytes);
  // Runs `iterations` rounds of the ISA's int8 dot chain; returns the operations done (a
  // multiply-add counts 2).
  uint64_t (*int8_dot)(uint64_t iterations);
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

extern const RooflineKernels kRooflineScalar;
extern const RooflineKernels kRooflineAvx2;
extern const RooflineKernels kRooflineAvxVnni;
extern const RooflineKernels kRooflineAvx512;
extern const RooflineKernels kRooflineNeon;
extern const RooflineKernels kRooflineNeonDotprod;
extern const RooflineKernels kRooflineNeonI8mm;
const KernelFamily<RooflineKernels>& roofline_family();

}  // namespace bitnet
