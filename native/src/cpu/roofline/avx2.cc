#include <immintrin.h>

#include <cstring>

#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

uint64_t read(const uint8_t* data, size_t bytes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= bytes; i += 128) {
    a0 = _mm256_xor_si256(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)));
    a1 = _mm256_xor_si256(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 96)));
  }
  __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  uint64_t w[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(w), a);
  uint64_t r = w[0] ^ w[1] ^ w[2] ^ w[3];
  return r ^ xor_words(data, i, bytes);
}


// 12 chains of vpmaddubsw + vpmaddwd + vpaddd per round (32 int8 multiply-adds each): the chain an
// AVX2 int8 dot product is built from. In asm so that nothing is folded or spilled.
uint64_t int8_dot(uint64_t iterations) {
#define BITNET_CHAIN(t, acc) "vpmaddubsw %%ymm1, %%ymm0, %%" t "\n\tvpmaddwd %%ymm2, %%" t ", %%" t "\n\tvpaddd %%" t ", %%" acc ", %%" acc "\n\t"
  uint64_t n = iterations;
  if (n == 0) return 0;
  __asm__ volatile(
      "vpcmpeqb %%ymm0, %%ymm0, %%ymm0\n\tvpabsb %%ymm0, %%ymm1\n\tvpabsw %%ymm0, %%ymm2\n\t"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n\tvpxor %%ymm11, %%ymm11, %%ymm11\n\tvpxor %%ymm12, %%ymm12, %%ymm12\n\t"
      "vpxor %%ymm13, %%ymm13, %%ymm13\n\tvpxor %%ymm14, %%ymm14, %%ymm14\n\tvpxor %%ymm15, %%ymm15, %%ymm15\n\t"
      "1:\n\t"
      BITNET_CHAIN("ymm4", "ymm10") BITNET_CHAIN("ymm5", "ymm11") BITNET_CHAIN("ymm6", "ymm12")
      BITNET_CHAIN("ymm7", "ymm13") BITNET_CHAIN("ymm8", "ymm14") BITNET_CHAIN("ymm9", "ymm15")
      BITNET_CHAIN("ymm4", "ymm10") BITNET_CHAIN("ymm5", "ymm11") BITNET_CHAIN("ymm6", "ymm12")
      BITNET_CHAIN("ymm7", "ymm13") BITNET_CHAIN("ymm8", "ymm14") BITNET_CHAIN("ymm9", "ymm15")
      "dec %0\n\tjnz 1b\n\tvzeroupper"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm2", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
#undef BITNET_CHAIN
  return iterations * 12 * 64;
}
}  // namespace

const RooflineKernels kRooflineAvx2 = {read, int8_dot};

}  // namespace bitnet
