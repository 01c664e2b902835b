#include <immintrin.h>

#include <cstring>

#include "cpu/stream/stream.h"

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

}  // namespace

const StreamKernels kStreamAvx512 = {read};

}  // namespace bitnet
