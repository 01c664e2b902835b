// AVX2: _mm256_round_ps with round-to-nearest-even matches nearbyint in the reference.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/quant/weights.h"

namespace bitnet {
namespace {

size_t quantize_rows(const float* x, size_t ldx, size_t k, size_t kp, size_t r0, size_t r1, int8_t* q, size_t ldq,
                     float* scale, int32_t* sum) {
  size_t bad = std::numeric_limits<size_t>::max();
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 fmax = _mm256_set1_ps(std::numeric_limits<float>::max());
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* qr = q + r * ldq;
    __m256 vmax = _mm256_setzero_ps();
    __m256 nonfinite = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
      const __m256 a = _mm256_and_ps(_mm256_loadu_ps(xr + j), abs_mask);
      nonfinite = _mm256_or_ps(nonfinite, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));
      vmax = _mm256_max_ps(vmax, a);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float amax = _mm_cvtss_f32(m4);
    bool finite = _mm256_movemask_ps(nonfinite) == 0;
    finite = absmax_tail(xr, j, k, &amax) && finite;
    if (!finite && bad == std::numeric_limits<size_t>::max()) bad = r;
    const float s = activation_scale(amax);
    const __m256 vs = _mm256_set1_ps(s);
    const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
    __m256i vsum = _mm256_setzero_si256();
    j = 0;
    for (; j + 8 <= k; j += 8) {
      __m256 v = _mm256_mul_ps(_mm256_loadu_ps(xr + j), vs);
      v = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
      const __m256i iv = _mm256_cvtps_epi32(v);
      vsum = _mm256_add_epi32(vsum, iv);
      const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(iv), _mm256_extracti128_si256(iv, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(qr + j), _mm_packs_epi16(p16, p16));
    }
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(vsum), _mm256_extracti128_si256(vsum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    int32_t total = _mm_cvtsi128_si32(s4);
    total += quantize_tail(xr, s, j, k, qr);
    pad_row(qr, k, kp);
    scale[r] = s;
    sum[r] = total;
  }
  return bad;
}

}  // namespace

const QuantKernels kQuantAvx2 = {quantize_rows, weights_impl::quantize_weights_ternary};

}  // namespace bitnet
