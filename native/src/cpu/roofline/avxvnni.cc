// AVX-VNNI roofline: the read is AVX2's (the same 256-bit loads); the int8 dot is 12 independent
// VEX vpdpbusd ymm chains per round (32 int8 multiply-adds each).
#include <immintrin.h>

#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

uint64_t int8_dot(uint64_t iterations) {
#define BITNET_CHAIN(acc) "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%" acc "\n\t"
  uint64_t n = iterations;
  if (n == 0) return 0;
  __asm__ volatile(
      "vpcmpeqb %%ymm0, %%ymm0, %%ymm0\n\tvpabsb %%ymm0, %%ymm1\n\t"
      "1:\n\t"
      BITNET_CHAIN("ymm4") BITNET_CHAIN("ymm5") BITNET_CHAIN("ymm6") BITNET_CHAIN("ymm7") BITNET_CHAIN("ymm8") BITNET_CHAIN("ymm9")
      BITNET_CHAIN("ymm10") BITNET_CHAIN("ymm11") BITNET_CHAIN("ymm12") BITNET_CHAIN("ymm13") BITNET_CHAIN("ymm14") BITNET_CHAIN("ymm15")
      "dec %0\n\tjnz 1b\n\tvzeroupper"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
#undef BITNET_CHAIN
  return iterations * 12 * 64;
}

}  // namespace

const RooflineKernels kRooflineAvxVnni = {kRooflineAvx2.read, int8_dot};

}  // namespace bitnet
