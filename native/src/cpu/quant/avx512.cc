// AVX-512: cvtps_epi32 rounds with the current mode (round-to-nearest-even by default), the same
// as nearbyint in the reference; the products x * s are the same float32 multiplications.
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
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 fmax = _mm512_set1_ps(std::numeric_limits<float>::max());
  for (size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    int8_t* qr = q + r * ldq;
    __m512 vmax = _mm512_setzero_ps();
    __mmask16 nonfinite = 0;
    size_t j = 0;
    for (; j + 16 <= k; j += 16) {
      const __m512 a = _mm512_and_ps(_mm512_loadu_ps(xr + j), abs_mask);
      nonfinite |= _mm512_cmp_ps_mask(a, fmax, _CMP_NLE_UQ);
      vmax = _mm512_max_ps(vmax, a);
    }
    float amax = _mm512_reduce_max_ps(vmax);
    bool finite = nonfinite == 0;
    finite = absmax_tail(xr, j, k, &amax) && finite;
    if (!finite && bad == std::numeric_limits<size_t>::max()) bad = r;
    const float s = activation_scale(amax);
    const __m512 vs = _mm512_set1_ps(s);
    const __m512 lo = _mm512_set1_ps(-128.0f), hi = _mm512_set1_ps(127.0f);
    __m512i vsum = _mm512_setzero_si512();
    j = 0;
    for (; j + 16 <= k; j += 16) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(xr + j), vs);
      v = _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
      const __m512i iv = _mm512_cvtps_epi32(v);
      vsum = _mm512_add_epi32(vsum, iv);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr + j), _mm512_cvtsepi32_epi8(iv));
    }
    int32_t total = _mm512_reduce_add_epi32(vsum);
    total += quantize_tail(xr, s, j, k, qr);
    pad_row(qr, k, kp);
    scale[r] = s;
    sum[r] = total;
  }
  return bad;
}

}  // namespace

const QuantKernels kQuantAvx512 = {quantize_rows, weights_impl::quantize_weights_ternary};

}  // namespace bitnet
