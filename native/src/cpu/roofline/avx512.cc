#include <immintrin.h>

#include <cstring>

#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

uint64_t read(const uint8_t* data, size_t bytes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 256 <= bytes; i += 256) {
    a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(data + i));
    a1 = _mm512_xor_si512(a1, _mm512_loadu_si512(data + i + 64));
    a2 = _mm512_xor_si512(a2, _mm512_loadu_si512(data + i + 128));
    a3 = _mm512_xor_si512(a3, _mm512_loadu_si512(data + i + 192));
  }
  __m512i a = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  uint64_t w[8];
  _mm512_storeu_si512(w, a);
  uint64_t r = 0;
  for (uint64_t v : w) r ^= v;
  return r ^ xor_words(data, i, bytes);
}


// 12 independent vpdpbusd zmm chains per round (64 int8 multiply-adds each).
uint64_t int8_dot(uint64_t iterations) {
#define BITNET_CHAIN(acc) "vpdpbusd %%zmm1, %%zmm0, %%" acc "\n\t"
  uint64_t n = iterations;
  if (n == 0) return 0;
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\tvpabsb %%zmm0, %%zmm1\n\t"
      "1:\n\t"
      BITNET_CHAIN("zmm4") BITNET_CHAIN("zmm5") BITNET_CHAIN("zmm6") BITNET_CHAIN("zmm7") BITNET_CHAIN("zmm8") BITNET_CHAIN("zmm9")
      BITNET_CHAIN("zmm10") BITNET_CHAIN("zmm11") BITNET_CHAIN("zmm12") BITNET_CHAIN("zmm13") BITNET_CHAIN("zmm14") BITNET_CHAIN("zmm15")
      "dec %0\n\tjnz 1b\n\tvzeroupper"
      : "+r"(n)
      :
      : "xmm0", "xmm1", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
#undef BITNET_CHAIN
  return iterations * 12 * 128;
}
}  // namespace

const RooflineKernels kRooflineAvx512 = {read, int8_dot};

}  // namespace bitnet
