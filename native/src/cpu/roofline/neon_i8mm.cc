// Roofline with the int8 matrix-multiply extension: the read is Advanced SIMD's (neon.cc); the int8
// dot is 12 independent smmla chains per round (32 int8 multiply-adds each: a 2 x 8 by 8 x 2 tile).
#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

uint64_t int8_dot(uint64_t iterations) {
#define BITNET_CHAIN(acc) "smmla " acc ".4s, v0.16b, v1.16b\n\t"
  uint64_t n = iterations;
  if (n == 0) return 0;
  __asm__ volatile(
      "movi v0.16b, #3\n\tmovi v1.16b, #5\n\t"
      "1:\n\t"
      BITNET_CHAIN("v16") BITNET_CHAIN("v17") BITNET_CHAIN("v18") BITNET_CHAIN("v19") BITNET_CHAIN("v20") BITNET_CHAIN("v21")
      BITNET_CHAIN("v22") BITNET_CHAIN("v23") BITNET_CHAIN("v24") BITNET_CHAIN("v25") BITNET_CHAIN("v26") BITNET_CHAIN("v27")
      "subs %0, %0, #1\n\tb.ne 1b"
      : "+r"(n)
      :
      : "v0", "v1", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "cc");
#undef BITNET_CHAIN
  return iterations * 12 * 64;
}

}  // namespace

const RooflineKernels kRooflineNeonI8mm = {kRooflineNeon.read, int8_dot};

}  // namespace bitnet
