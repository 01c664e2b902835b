// What the 256-bit x86 variants (avx2.cc, avxvnni.cc) share: reductions, the float64 scaling,
// and the GEMM driver over weight panels. Included only by those files, each compiling it with
// its own flags (internal linkage: see core/registry.h).
//
// GEMM (drivers.h): a panel of 16 weight rows is unpacked from tl256 to codes laid out
// [k/4][16 rows][4 k] (64 bytes per 4 k), so one ymm holds 4 consecutive codes of 8 rows. The
// micro-kernel broadcasts 4 activation bytes of a row and multiplies them with two panel
// vectors: MR activation rows x 16 weight rows of int32 results, no horizontal sums. The
// variant supplies the micro-kernel (the dot instruction).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/avx2_transpose.h"
#include "cpu/ternary/drivers.h"

namespace bitnet {
namespace {
namespace x86_256 {

using ternary_drivers::kPanelRows;
constexpr size_t kMicroRows = 6;  // activation rows per micro tile: 12 accumulators, 2 panel vectors, 1 broadcast

// GEMV streams: a group's block is 256 bytes (4 rows x 64), and the two half-block iterations of
// a block each prefetch two of the four lines 4 KiB ahead. The hardware prefetcher alone left
// cold 2-thread GEMVs at 0.76-0.85 of the read bandwidth, with this 0.84-0.99 (Zen 5).
constexpr size_t kPrefetchBytes = 4096;
inline void prefetch_ahead(const uint8_t* half_block, size_t half) {
  const char* p = reinterpret_cast<const char*>(half_block) + kPrefetchBytes + 64 * (half & 1);
  _mm_prefetch(p, _MM_HINT_T0);
  _mm_prefetch(p + 128, _MM_HINT_T0);
}

// The horizontal sums of four vectors at once: {sum of a's lanes, of b's, of c's, of d's}.
inline __m128i hsum4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_hadd_epi32(a, b), cd = _mm256_hadd_epi32(c, d);
  const __m256i s = _mm256_hadd_epi32(ab, cd);
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// Rows [n, n + rows) (rows <= 16; the rest zero codes), k in [k0, k0 + kc), into a panel. In a
// 32-byte half of a row's block, 32-bit word q holds bytes 4q .. 4q + 3, so field f of it is the
// 4 codes of k = 64 f + 32 h + 4 q: word q of eight rows transposed is one panel vector.
inline void pack_panel(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
  const __m256i mask = _mm256_set1_epi8(0x03);
  for (size_t b = 0; b < kc / kTernaryBlock; ++b) {
    for (size_t h = 0; h < 2; ++h) {
      for (size_t g = 0; g < 2; ++g) {
        __m256i v[8];
        for (size_t r = 0; r < 8; ++r) {
          const size_t row = 8 * g + r;
          v[r] = row < rows ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + tl256_offset(kp, n + row, k0 / kTernaryBlock + b) + 32 * h))
                            : _mm256_setzero_si256();
        }
        for (int f = 0; f < 4; ++f) {
          __m256i e[8];
          for (size_t r = 0; r < 8; ++r) e[r] = _mm256_and_si256(_mm256_srli_epi16(v[r], 2 * f), mask);
          avx2_transpose8x32(e);
          uint8_t* dst = panel + (b * 64 + 16 * f + 8 * h) * 64 + 32 * g;
          for (size_t q = 0; q < 8; ++q) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + q * 64), e[q]);
        }
      }
    }
  }
}

// Four lanes of the float64 scaling at a time (IEEE operations, so the same bits as the
// scalar reference), the tail through the reference.
inline void scale(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row) {
  const __m256d xs = _mm256_set1_pd(xscale);
  const __m128i s = _mm_set1_epi32(xsum);
  size_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    const __m128i d = _mm_sub_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + j)), s);
    const __m256d ws = per_row ? _mm256_cvtps_pd(_mm_loadu_ps(wscale + j)) : _mm256_set1_pd(wscale[0]);
    const __m256d y = _mm256_div_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(d), ws), xs);
    _mm_storeu_ps(row + j, _mm256_cvtpd_ps(y));
  }
  scale_dots_ref(row, j, n1, xsum, xscale, wscale, per_row);
}

}  // namespace x86_256
}  // namespace
}  // namespace bitnet
