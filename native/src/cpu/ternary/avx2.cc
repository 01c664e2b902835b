// AVX2: maddubs (unsigned codes x signed activations -> int16 pairs) then madd to int32. Field f
// is isolated by a mask (code * 4^f <= 128), so a pair sums to at most 2 * 128 * 128 = 32768 in
// magnitude, and only -32768 (both activations -128) reaches the int16 bound: no saturation.
#include <immintrin.h>

#include <algorithm>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {

inline __m256i dot_u8s8(__m256i codes, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(codes, x), _mm256_set1_epi16(1));
}

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// One activation row against two rows of a group (`g` points at the first one's blocks, which
// are 256 bytes apart); each 64-byte block is two 32-byte halves.
void gemv_rows2(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const __m256i m0 = _mm256_set1_epi8(0x03), m1 = _mm256_set1_epi8(0x0c);
  const __m256i m2 = _mm256_set1_epi8(0x30), m3 = _mm256_set1_epi8(static_cast<char>(0xc0));
  __m256i a[2][4];
  for (auto& r : a)
    for (auto& v : r) v = _mm256_setzero_si256();
  for (size_t b = 0; b < blocks; ++b) {
    for (int h = 0; h < 2; ++h) {
      const int8_t* xb = x + b * kTernaryBlock + 32 * h;
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 64));
      const __m256i x2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 128));
      const __m256i x3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 192));
      for (int r = 0; r < 2; ++r) {
        const __m256i v = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(g + b * 4 * kTernaryBlockBytes + r * kTernaryBlockBytes + 32 * h));
        a[r][0] = _mm256_add_epi32(a[r][0], dot_u8s8(_mm256_and_si256(v, m0), x0));
        a[r][1] = _mm256_add_epi32(a[r][1], dot_u8s8(_mm256_and_si256(v, m1), x1));
        a[r][2] = _mm256_add_epi32(a[r][2], dot_u8s8(_mm256_and_si256(v, m2), x2));
        a[r][3] = _mm256_add_epi32(a[r][3], dot_u8s8(_mm256_and_si256(v, m3), x3));
      }
    }
  }
  for (int r = 0; r < 2; ++r) {
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(a[r][0], _mm256_srai_epi32(a[r][1], 2)),
                                 _mm256_add_epi32(_mm256_srai_epi32(a[r][2], 4), _mm256_srai_epi32(a[r][3], 6)));
    out[r] = hsum(s);
  }
}

void unpack_codes(const uint8_t* row, size_t blocks, uint8_t* codes) {
  const __m256i m = _mm256_set1_epi8(0x03);
  for (size_t b = 0; b < blocks; ++b) {
    for (int h = 0; h < 2; ++h) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * 4 * kTernaryBlockBytes + 32 * h));
      uint8_t* c = codes + b * kTernaryBlock + 32 * h;
      for (int f = 0; f < 4; ++f) {
        __m256i field = _mm256_and_si256(_mm256_srli_epi16(v, 2 * f), m);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 64 * f), field);
      }
    }
  }
}

int32_t dot_codes_row(const uint8_t* codes, const int8_t* x, size_t kp) {
  __m256i acc = _mm256_setzero_si256();
  for (size_t k = 0; k < kp; k += 32) {
    acc = _mm256_add_epi32(acc, dot_u8s8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + k)),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k))));
  }
  return hsum(acc);
}

// GEMM micro-kernel: 2 weight rows x 4 activation rows on unpacked codes.
void micro_2x4(const uint8_t* codes, size_t kp, const int8_t* x, size_t ldx, int32_t out[4][2]) {
  __m256i acc[4][2];
  for (auto& r : acc)
    for (auto& v : r) v = _mm256_setzero_si256();
  for (size_t k = 0; k < kp; k += 32) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + k));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + kp + k));
    for (int i = 0; i < 4; ++i) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i * ldx + k));
      acc[i][0] = _mm256_add_epi32(acc[i][0], dot_u8s8(w0, xv));
      acc[i][1] = _mm256_add_epi32(acc[i][1], dot_u8s8(w1, xv));
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j) out[i][j] = hsum(acc[i][j]);
}

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
               int32_t* out, size_t ldo, uint8_t* codes) {
  const size_t blocks = kp / kTernaryBlock;
  if (m >= 4) {
    for (size_t nt = n0; nt < n1; nt += kTernaryTileRows) {
      const size_t rows = std::min(kTernaryTileRows, n1 - nt);
      for (size_t r = 0; r < rows; ++r) unpack_codes(w + tl256_offset(kp, nt + r, 0), blocks, codes + r * kp);
      size_t i = 0;
      for (; i + 4 <= m; i += 4) {
        size_t r = 0;
        for (; r + 2 <= rows; r += 2) {
          int32_t tile[4][2];
          micro_2x4(codes + r * kp, kp, x + i * ldx, ldx, tile);
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 2; ++b) out[(i + a) * ldo + nt + r + b] = tile[a][b];
        }
        for (; r < rows; ++r)
          for (int a = 0; a < 4; ++a) out[(i + a) * ldo + nt + r] = dot_codes_row(codes + r * kp, x + (i + a) * ldx, kp);
      }
      for (; i < m; ++i)
        for (size_t r = 0; r < rows; ++r) out[i * ldo + nt + r] = dot_codes_row(codes + r * kp, x + i * ldx, kp);
    }
    return;
  }
  for (size_t i = 0; i < m; ++i) {
    const int8_t* xr = x + i * ldx;
    // Rows come in pairs within a group; a last odd row computes its (zero) padding partner.
    for (size_t n = n0; n < n1; n += 2) {
      int32_t r2[2];
      gemv_rows2(xr, w + tl256_offset(kp, n, 0), blocks, r2);
      out[i * ldo + n] = r2[0];
      if (n + 1 < n1) out[i * ldo + n + 1] = r2[1];
    }
  }
}

}  // namespace

const TernaryKernels kTernaryAvx2 = {dot_codes, scale_dots_ref};

}  // namespace bitnet
