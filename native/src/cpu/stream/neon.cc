// arm64 Advanced SIMD read: four 16-byte loads an iteration into four independent XORs.
#include <arm_neon.h>

#include "cpu/stream/stream.h"

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

}  // namespace

const StreamKernels kStreamNeon = {read};

}  // namespace bitnet
