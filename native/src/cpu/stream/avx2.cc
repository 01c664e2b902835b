#include <immintrin.h>

#include <cstring>

#include "cpu/stream/stream.h"

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

}  // namespace

const StreamKernels kStreamAvx2 = {read};

}  // namespace bitnet
