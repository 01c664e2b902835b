// AVX-512 VNNI: vpdpbusd multiplies unsigned codes by signed activations. Field f of a packed
// byte is isolated with a mask, not a shift: (byte & (3 << 2f)) = code * 4^f <= 128 still fits
// an unsigned byte, and the accumulator for field f is divided by 4^f (exactly) at the end.
#include <immintrin.h>

#include <algorithm>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {

inline int32_t combine(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  __m512i s = _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_srai_epi32(a1, 2)),
                               _mm512_add_epi32(_mm512_srai_epi32(a2, 4), _mm512_srai_epi32(a3, 6)));
  return _mm512_reduce_add_epi32(s);
}

// One activation row against four weight rows: the activation loads are shared.
void gemv_rows4(const int8_t* x, const uint8_t* w, size_t ldw, size_t blocks, int32_t* out) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
  const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  __m512i a[4][4];
  for (auto& r : a)
    for (auto& v : r) v = _mm512_setzero_si512();
  for (size_t b = 0; b < blocks; ++b) {
    const int8_t* xb = x + b * kTernaryBlock;
    const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
    const __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
    for (int r = 0; r < 4; ++r) {
      const __m512i v = _mm512_loadu_si512(w + r * ldw + b * kTernaryBlockBytes);
      a[r][0] = _mm512_dpbusd_epi32(a[r][0], _mm512_and_si512(v, m0), x0);
      a[r][1] = _mm512_dpbusd_epi32(a[r][1], _mm512_and_si512(v, m1), x1);
      a[r][2] = _mm512_dpbusd_epi32(a[r][2], _mm512_and_si512(v, m2), x2);
      a[r][3] = _mm512_dpbusd_epi32(a[r][3], _mm512_and_si512(v, m3), x3);
    }
  }
  for (int r = 0; r < 4; ++r) out[r] = combine(a[r][0], a[r][1], a[r][2], a[r][3]);
}

void gemv_row1(const int8_t* x, const uint8_t* w, size_t blocks, int32_t* out) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
  const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t b = 0; b < blocks; ++b) {
    const int8_t* xb = x + b * kTernaryBlock;
    const __m512i v = _mm512_loadu_si512(w + b * kTernaryBlockBytes);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(v, m0), _mm512_loadu_si512(xb));
    a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(v, m1), _mm512_loadu_si512(xb + 64));
    a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(v, m2), _mm512_loadu_si512(xb + 128));
    a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(v, m3), _mm512_loadu_si512(xb + 192));
  }
  *out = combine(a0, a1, a2, a3);
}

// GEMM: a tile of weight rows is unpacked once to plain codes (natural order) and reused by
// every activation row; the micro-kernel is 4 weight rows x 4 activation rows.
constexpr size_t kTileRows = kTernaryTileRows;

void unpack_codes(const uint8_t* w, size_t blocks, uint8_t* codes) {
  const __m512i m = _mm512_set1_epi8(0x03);
  for (size_t b = 0; b < blocks; ++b) {
    const __m512i v = _mm512_loadu_si512(w + b * kTernaryBlockBytes);
    uint8_t* c = codes + b * kTernaryBlock;
    _mm512_storeu_si512(c, _mm512_and_si512(v, m));
    _mm512_storeu_si512(c + 64, _mm512_and_si512(_mm512_srli_epi16(v, 2), m));
    _mm512_storeu_si512(c + 128, _mm512_and_si512(_mm512_srli_epi16(v, 4), m));
    _mm512_storeu_si512(c + 192, _mm512_and_si512(_mm512_srli_epi16(v, 6), m));
  }
}

void micro_4x4(const uint8_t* codes, size_t kp, const int8_t* x, size_t ldx, int32_t out[4][4]) {
  __m512i acc[4][4];
  for (auto& r : acc)
    for (auto& v : r) v = _mm512_setzero_si512();
  for (size_t k = 0; k < kp; k += 64) {
    const __m512i w0 = _mm512_loadu_si512(codes + k), w1 = _mm512_loadu_si512(codes + kp + k);
    const __m512i w2 = _mm512_loadu_si512(codes + 2 * kp + k), w3 = _mm512_loadu_si512(codes + 3 * kp + k);
    for (int i = 0; i < 4; ++i) {
      const __m512i xv = _mm512_loadu_si512(x + i * ldx + k);
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], w0, xv);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], w1, xv);
      acc[i][2] = _mm512_dpbusd_epi32(acc[i][2], w2, xv);
      acc[i][3] = _mm512_dpbusd_epi32(acc[i][3], w3, xv);
    }
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) out[i][j] = _mm512_reduce_add_epi32(acc[i][j]);
}

int32_t dot_codes_row(const uint8_t* codes, const int8_t* x, size_t kp) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t k = 0; k < kp; k += 64) acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(codes + k), _mm512_loadu_si512(x + k));
  return _mm512_reduce_add_epi32(acc);
}

void gemm(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t ldw, size_t kp, size_t n0, size_t n1,
          int32_t* out, size_t ldo, uint8_t* codes) {
  const size_t blocks = kp / kTernaryBlock;
  for (size_t nt = n0; nt < n1; nt += kTileRows) {
    const size_t rows = std::min(kTileRows, n1 - nt);
    for (size_t r = 0; r < rows; ++r) unpack_codes(w + (nt + r) * ldw, blocks, codes + r * kp);
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      size_t r = 0;
      for (; r + 4 <= rows; r += 4) {
        int32_t tile[4][4];
        micro_4x4(codes + r * kp, kp, x + i * ldx, ldx, tile);
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b) out[(i + a) * ldo + nt + r + b] = tile[a][b];
      }
      for (; r < rows; ++r)
        for (int a = 0; a < 4; ++a) out[(i + a) * ldo + nt + r] = dot_codes_row(codes + r * kp, x + (i + a) * ldx, kp);
    }
    for (; i < m; ++i)
      for (size_t r = 0; r < rows; ++r) out[i * ldo + nt + r] = dot_codes_row(codes + r * kp, x + i * ldx, kp);
  }
}

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t ldw, size_t kp, size_t n0, size_t n1,
               int32_t* out, size_t ldo, uint8_t* scratch) {
  const size_t blocks = kp / kTernaryBlock;
  if (m >= 4) {
    gemm(x, ldx, m, w, ldw, kp, n0, n1, out, ldo, scratch);
    return;
  }
  for (size_t i = 0; i < m; ++i) {
    const int8_t* xr = x + i * ldx;
    size_t n = n0;
    for (; n + 4 <= n1; n += 4) {
      int32_t r4[4];
      gemv_rows4(xr, w + n * ldw, ldw, blocks, r4);
      for (int r = 0; r < 4; ++r) out[i * ldo + n + r] = r4[r];
    }
    for (; n < n1; ++n) gemv_row1(xr, w + n * ldw, blocks, out + i * ldo + n);
  }
}

}  // namespace

const TernaryKernels kTernaryAvx512 = {dot_codes};

}  // namespace bitnet
