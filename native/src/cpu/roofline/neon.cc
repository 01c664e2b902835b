// arm64 Advanced SIMD read: four 16-byte loads an iteration into four independent XORs.
#include <arm_neon.h>

#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

uint64_t read(const uint8_t* data, size_t bytes) {
  uint64x2_t a0 = vdupq_n_u64(0), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    a0 = veorq_u64(a0, vld1q_u64(reinterpret_cast<const uint64_t*>(data + i)));
    a1 = veorq_u64(a1, vld1q_u64(reinterpret_cast<const uint64_t*>(data + i + 16)));
    a2 = veorq_u64(a2, vld1q_u64(reinterpret_cast<const uint64_t*>(data + i + 32)));
    a3 = veorq_u64(a3, vld1q_u64(reinterpret_cast<const uint64_t*>(data + i + 48)));
  }
  const uint64x2_t a = veorq_u64(veorq_u64(a0, a1), veorq_u64(a2, a3));
  return vgetq_lane_u64(a, 0) ^ vgetq_lane_u64(a, 1) ^ xor_words(data, i, bytes);
}


// 12 chains of smull + smlal2 + sadalp per round (16 int8 multiply-adds each): Advanced SIMD's int8
// dot without the dot-product extension.
uint64_t int8_dot(uint64_t iterations) {
#define BITNET_CHAIN(t, acc) "smull " t ".8h, v0.8b, v1.8b\n\tsmlal2 " t ".8h, v0.16b, v1.16b\n\tsadalp " acc ".4s, " t ".8h\n\t"
  uint64_t n = iterations;
  if (n == 0) return 0;
  __asm__ volatile(
      "movi v0.16b, #3\n\tmovi v1.16b, #5\n\t"
      "1:\n\t"
      BITNET_CHAIN("v2", "v16") BITNET_CHAIN("v3", "v17") BITNET_CHAIN("v4", "v18") BITNET_CHAIN("v5", "v19")
      BITNET_CHAIN("v6", "v20") BITNET_CHAIN("v7", "v21") BITNET_CHAIN("v2", "v16") BITNET_CHAIN("v3", "v17")
      BITNET_CHAIN("v4", "v18") BITNET_CHAIN("v5", "v19") BITNET_CHAIN("v6", "v20") BITNET_CHAIN("v7", "v21")
      "subs %0, %0, #1\n\tb.ne 1b"
      : "+r"(n)
      :
      : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "v20", "v21", "cc");
#undef BITNET_CHAIN
  return iterations * 12 * 32;
}
}  // namespace

const RooflineKernels kRooflineNeon = {read, int8_dot};

}  // namespace bitnet
