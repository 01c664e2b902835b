// AVX-VNNI dense kernels: float formats as avx2.cc (x86_256.h); int8 with VEX vpdpbusd
// (unsigned x signed, four products into an int32 lane, no saturation): the weights are flipped
// to unsigned on the fly (w ^ 0x80 = w + 128) and 128 * sum(x) is taken off the dot afterwards,
// exact for every input.
#include "cpu/dense/x86_256.h"

namespace bitnet {
namespace {

inline void dpbusd(__m256i& acc, __m256i u8, __m256i s8) { asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u8), "xm"(s8)); }

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline int32_t sum_i8(const int8_t* x, size_t k) {
  __m256i acc = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi8(1);
  for (size_t c = 0; c < k; c += 32) dpbusd(acc, ones, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)));
  return hsum_i32(acc);
}

// One activation row: the weight rows one after another (one sequential stream, prefetched), two
// chains.
void i8_row(const int8_t* x, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const int32_t sum = 128 * sum_i8(x, k);
  for (size_t j = n0; j < n1; ++j) {
    const int8_t* wj = w + j * k;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (size_t c = 0; c < k; c += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(wj + c + dense_x86::kPrefetchBytes), _MM_HINT_T0);
      dpbusd(a0, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj + c)), flip),
             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)));
      dpbusd(a1, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj + c + 32)), flip),
             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c + 32)));
    }
    out[j] = hsum_i32(_mm256_add_epi32(a0, a1)) - sum;
  }
}

void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  if (m == 1) return i8_row(x, k, w, n0, n1, out);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  size_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    const int8_t* w0 = w + j * k;
    for (size_t i = 0; i < m; ++i) {
      const int8_t* xi = x + i * k;
      const int32_t sum = 128 * sum_i8(xi, k);
      __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
      for (size_t c = 0; c < k; c += 32) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xi + c));
        dpbusd(a0, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + c)), flip), xv);
        dpbusd(a1, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + k + c)), flip), xv);
        dpbusd(a2, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + 2 * k + c)), flip), xv);
        dpbusd(a3, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + 3 * k + c)), flip), xv);
      }
      int32_t* o = out + i * ldo + j;
      o[0] = hsum_i32(a0) - sum;
      o[1] = hsum_i32(a1) - sum;
      o[2] = hsum_i32(a2) - sum;
      o[3] = hsum_i32(a3) - sum;
    }
  }
  for (; j < n1; ++j)
    for (size_t i = 0; i < m; ++i) i8_row(x + i * k, k, w, j, j + 1, out + i * ldo);
}

}  // namespace

const DenseKernels kDenseAvxVnni = {dense_x86::f32, dense_x86::f16, dense_x86::bf16, i8};

}  // namespace bitnet
