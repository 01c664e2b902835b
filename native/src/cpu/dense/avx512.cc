// AVX-512: four weight rows at a time against each activation row, one accumulator per weight
// row (four independent FMA chains per loop). The quad of rows (at most 4 x k x 4 bytes) stays
// in L1/L2 while the activation rows of a small batch pass over it, so DRAM sees each weight
// byte once per call. int8 uses vpdpbusd (unsigned x signed): the weights are flipped to
// unsigned on the fly (w ^ 0x80 = w + 128) and 128 * sum(x) is taken off the dot afterwards.
#include <immintrin.h>

#include "cpu/dense/dense.h"

namespace bitnet {
namespace {

inline __m512 load_w(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
inline __m512 load_w(const uint16_t* p, __mmask16 mask, bool bf16) {
  const __m256i h = _mm256_maskz_loadu_epi16(mask, p);
  if (bf16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}

struct F32Load {
  const float* w;
  size_t k;
  __m512 operator()(size_t row, size_t c, __mmask16 mask) const { return load_w(w + row * k + c, mask); }
};
template <bool Bf16>
struct HalfLoad {
  const uint16_t* w;
  size_t k;
  __m512 operator()(size_t row, size_t c, __mmask16 mask) const { return load_w(w + row * k + c, mask, Bf16); }
};

// One activation row: weight rows one after another (a single sequential stream; see i8_row),
// four accumulators per row.
template <class Load>
void row_float(const float* x, size_t k, Load load, size_t n0, size_t n1, float* out) {
  const size_t full = k / 64 * 64, full16 = k / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - full16)) - 1);
  for (size_t j = n0; j < n1; ++j) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c < full; c += 64) {
      a0 = _mm512_fmadd_ps(load(j, c, 0xffff), _mm512_loadu_ps(x + c), a0);
      a1 = _mm512_fmadd_ps(load(j, c + 16, 0xffff), _mm512_loadu_ps(x + c + 16), a1);
      a2 = _mm512_fmadd_ps(load(j, c + 32, 0xffff), _mm512_loadu_ps(x + c + 32), a2);
      a3 = _mm512_fmadd_ps(load(j, c + 48, 0xffff), _mm512_loadu_ps(x + c + 48), a3);
    }
    for (; c < full16; c += 16) a0 = _mm512_fmadd_ps(load(j, c, 0xffff), _mm512_loadu_ps(x + c), a0);
    if (tail) a1 = _mm512_fmadd_ps(load(j, c, tail), _mm512_maskz_loadu_ps(tail, x + c), a1);
    out[j] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
}

template <class Load>
void rows_float(const float* x, size_t m, size_t k, Load load, size_t n0, size_t n1, float* out, size_t ldo) {
  if (m == 1) return row_float(x, k, load, n0, n1, out);
  const size_t full = k / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - full)) - 1);
  size_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    for (size_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      size_t c = 0;
      for (; c < full; c += 16) {
        const __m512 xv = _mm512_loadu_ps(xi + c);
        a0 = _mm512_fmadd_ps(load(j, c, 0xffff), xv, a0);
        a1 = _mm512_fmadd_ps(load(j + 1, c, 0xffff), xv, a1);
        a2 = _mm512_fmadd_ps(load(j + 2, c, 0xffff), xv, a2);
        a3 = _mm512_fmadd_ps(load(j + 3, c, 0xffff), xv, a3);
      }
      if (tail) {
        const __m512 xv = _mm512_maskz_loadu_ps(tail, xi + c);
        a0 = _mm512_fmadd_ps(load(j, c, tail), xv, a0);
        a1 = _mm512_fmadd_ps(load(j + 1, c, tail), xv, a1);
        a2 = _mm512_fmadd_ps(load(j + 2, c, tail), xv, a2);
        a3 = _mm512_fmadd_ps(load(j + 3, c, tail), xv, a3);
      }
      float* o = out + i * ldo + j;
      o[0] = _mm512_reduce_add_ps(a0);
      o[1] = _mm512_reduce_add_ps(a1);
      o[2] = _mm512_reduce_add_ps(a2);
      o[3] = _mm512_reduce_add_ps(a3);
    }
  }
  for (; j < n1; ++j) {
    for (size_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      __m512 a0 = _mm512_setzero_ps();
      size_t c = 0;
      for (; c < full; c += 16) a0 = _mm512_fmadd_ps(load(j, c, 0xffff), _mm512_loadu_ps(xi + c), a0);
      if (tail) a0 = _mm512_fmadd_ps(load(j, c, tail), _mm512_maskz_loadu_ps(tail, xi + c), a0);
      out[i * ldo + j] = _mm512_reduce_add_ps(a0);
    }
  }
}

void f32(const float* x, size_t m, size_t k, const float* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, F32Load{w, k}, n0, n1, out, ldo);
}
void f16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, HalfLoad<false>{w, k}, n0, n1, out, ldo);
}
void bf16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, HalfLoad<true>{w, k}, n0, n1, out, ldo);
}

// In-place vpdpbusd (GCC 12 otherwise copies the accumulator around the intrinsic).
inline void dpbusd(__m512i& acc, __m512i u8, __m512i s8) { asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "vm"(s8)); }

inline int32_t sum_i8(const int8_t* x, size_t k) {
  __m512i acc = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi8(1);
  for (size_t c = 0; c < k; c += 64) dpbusd(acc, ones, _mm512_loadu_si512(x + c));
  return _mm512_reduce_add_epi32(acc);
}

// One activation row: the weight rows one after another, so the whole matrix is a single
// sequential stream that the prefetcher follows (four rows side by side were four short streams,
// 2.5 KiB each at K = 2560, and reached ~80% of the read bandwidth); two accumulators hide the
// vpdpbusd latency.
void i8_row(const int8_t* x, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int32_t sum = 128 * sum_i8(x, k);
  for (size_t j = n0; j < n1; ++j) {
    const int8_t* wj = w + j * k;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    size_t c = 0;
    for (; c + 128 <= k; c += 128) {
      dpbusd(a0, _mm512_xor_si512(_mm512_loadu_si512(wj + c), flip), _mm512_loadu_si512(x + c));
      dpbusd(a1, _mm512_xor_si512(_mm512_loadu_si512(wj + c + 64), flip), _mm512_loadu_si512(x + c + 64));
    }
    if (c < k) dpbusd(a0, _mm512_xor_si512(_mm512_loadu_si512(wj + c), flip), _mm512_loadu_si512(x + c));
    out[j] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1)) - sum;
  }
}

void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  if (m == 1) return i8_row(x, k, w, n0, n1, out);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  int32_t sums[16];
  for (size_t i0 = 0; i0 < m; i0 += 16) {
    const size_t mb = m - i0 < 16 ? m - i0 : 16;
    for (size_t i = 0; i < mb; ++i) sums[i] = 128 * sum_i8(x + (i0 + i) * k, k);
    size_t j = n0;
    for (; j + 4 <= n1; j += 4) {
      const int8_t* w0 = w + j * k;
      for (size_t i = 0; i < mb; ++i) {
        const int8_t* xi = x + (i0 + i) * k;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t c = 0; c < k; c += 64) {
          const __m512i xv = _mm512_loadu_si512(xi + c);
          dpbusd(a0, _mm512_xor_si512(_mm512_loadu_si512(w0 + c), flip), xv);
          dpbusd(a1, _mm512_xor_si512(_mm512_loadu_si512(w0 + k + c), flip), xv);
          dpbusd(a2, _mm512_xor_si512(_mm512_loadu_si512(w0 + 2 * k + c), flip), xv);
          dpbusd(a3, _mm512_xor_si512(_mm512_loadu_si512(w0 + 3 * k + c), flip), xv);
        }
        int32_t* o = out + (i0 + i) * ldo + j;
        o[0] = _mm512_reduce_add_epi32(a0) - sums[i];
        o[1] = _mm512_reduce_add_epi32(a1) - sums[i];
        o[2] = _mm512_reduce_add_epi32(a2) - sums[i];
        o[3] = _mm512_reduce_add_epi32(a3) - sums[i];
      }
    }
    for (; j < n1; ++j) {
      for (size_t i = 0; i < mb; ++i) {
        const int8_t* xi = x + (i0 + i) * k;
        __m512i a0 = _mm512_setzero_si512();
        for (size_t c = 0; c < k; c += 64) dpbusd(a0, _mm512_xor_si512(_mm512_loadu_si512(w + j * k + c), flip), _mm512_loadu_si512(xi + c));
        out[(i0 + i) * ldo + j] = _mm512_reduce_add_epi32(a0) - sums[i];
      }
    }
  }
}

}  // namespace

const DenseKernels kDenseAvx512 = {f32, f16, bf16, i8};

}  // namespace bitnet
