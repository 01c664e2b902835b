// AVX2 + FMA + F16C dense kernels: float formats in x86_256.h; int8 here.
//
// int8 x int8 with maddubs (unsigned x signed) multiplies |w| by x with w's sign moved onto it
// (vpsignb), two products summed per int16 lane: |w| <= 128 and |x| <= 127 keep a pair within
// 2 * 128 * 127 = 32512. The one input that breaks it, x = -128 (its negation does not exist in
// int8), never comes from the activation quantizer (|x * 127 / max|x|| <= 127), but the kernel
// is exact for any input: rows holding -128 take a path that widens both operands to int16.
#include <algorithm>

#include "cpu/dense/x86_256.h"

namespace bitnet {
namespace {

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

bool has_min(const int8_t* x, size_t n) {
  const __m256i lo = _mm256_set1_epi8(-128);
  __m256i any = _mm256_setzero_si256();
  for (size_t c = 0; c < n; c += 32) any = _mm256_or_si256(any, _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)), lo));
  return !_mm256_testz_si256(any, any);
}

// 32 products of w and x summed into int32 lanes (x has no -128): |w| times x with w's sign.
inline __m256i dot32(__m256i w, __m256i x, __m256i ones) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w)), ones);
}

// The exact path for rows holding -128: both operands sign-extended to int16, then madd.
int32_t dot_wide(const int8_t* x, const int8_t* w, size_t k) {
  __m256i acc = _mm256_setzero_si256();
  for (size_t c = 0; c < k; c += 16) {
    const __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c)));
    const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + c)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
  }
  return hsum_i32(acc);
}

// One activation row: the weight rows one after another (one sequential stream), prefetched.
void i8_row(const int8_t* x, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out) {
  if (has_min(x, k)) {
    for (size_t j = n0; j < n1; ++j) out[j] = dot_wide(x, w + j * k, k);
    return;
  }
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t j = n0; j < n1; ++j) {
    const int8_t* wj = w + j * k;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (size_t c = 0; c < k; c += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(wj + c + dense_x86::kPrefetchBytes), _MM_HINT_T0);
      a0 = _mm256_add_epi32(a0, dot32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj + c)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)), ones));
      a1 = _mm256_add_epi32(a1, dot32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj + c + 32)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c + 32)), ones));
    }
    out[j] = hsum_i32(_mm256_add_epi32(a0, a1));
  }
}

void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  if (m == 1) return i8_row(x, k, w, n0, n1, out);
  if (has_min(x, m * k)) {
    for (size_t j = n0; j < n1; ++j)
      for (size_t i = 0; i < m; ++i) out[i * ldo + j] = dot_wide(x + i * k, w + j * k, k);
    return;
  }
  const __m256i ones = _mm256_set1_epi16(1);
  size_t j = n0;
  // Four weight rows at a time: each 32-byte chunk of them is loaded and its |w| taken once for
  // all activation rows, whose int32 sums wait in `acc` (in L1) between chunks.
  constexpr size_t kRowsAtOnce = 16;
  alignas(32) __m256i acc[kRowsAtOnce][4];
  for (; j + 4 <= n1; j += 4) {
    const int8_t* w0 = w + j * k;
    for (size_t i0 = 0; i0 < m; i0 += kRowsAtOnce) {
      const size_t rows = std::min(kRowsAtOnce, m - i0);
      for (size_t i = 0; i < rows; ++i)
        for (size_t r = 0; r < 4; ++r) acc[i][r] = _mm256_setzero_si256();
      for (size_t c = 0; c < k; c += 32) {
        __m256i wv[4], aw[4];
        for (size_t r = 0; r < 4; ++r) {
          wv[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w0 + r * k + c));
          aw[r] = _mm256_abs_epi8(wv[r]);
        }
        for (size_t i = 0; i < rows; ++i) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + (i0 + i) * k + c));
          for (size_t r = 0; r < 4; ++r)
            acc[i][r] = _mm256_add_epi32(acc[i][r], _mm256_madd_epi16(_mm256_maddubs_epi16(aw[r], _mm256_sign_epi8(xv, wv[r])), ones));
        }
      }
      for (size_t i = 0; i < rows; ++i) {
        int32_t* o = out + (i0 + i) * ldo + j;
        for (size_t r = 0; r < 4; ++r) o[r] = hsum_i32(acc[i][r]);
      }
    }
  }
  for (; j < n1; ++j)
    for (size_t i = 0; i < m; ++i) i8_row(x + i * k, k, w, j, j + 1, out + i * ldo);
}

}  // namespace

const DenseKernels kDenseAvx2 = {dense_x86::f32, dense_x86::f16, dense_x86::bf16, i8};

}  // namespace bitnet
