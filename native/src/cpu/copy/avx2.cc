// AVX2 copy: 8 x 8 tiles of 4-byte elements transposed in ymm registers and of 2-byte elements
// in xmm registers; other sizes in plain tile loops (impl.h).
#include <immintrin.h>

#include "cpu/avx2_transpose.h"
#include "cpu/copy/impl.h"

namespace bitnet {
namespace {

struct Tile32 {
  static constexpr size_t kSize = 8;
  static void run(const uint32_t* src, int64_t scs, uint32_t* dst, int64_t drs) {
    __m256i r[8];
    for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j * scs));
    avx2_transpose8x32(r);
    for (int i = 0; i < 8; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i * drs), r[i]);
  }
};

struct Tile16 {
  static constexpr size_t kSize = 8;
  static void run(const uint16_t* src, int64_t scs, uint16_t* dst, int64_t drs) {
    __m128i r[8];
    for (int j = 0; j < 8; ++j) r[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j * scs));
    __m128i a[8], b[8];
    for (int j = 0; j < 4; ++j) {
      a[2 * j] = _mm_unpacklo_epi16(r[2 * j], r[2 * j + 1]);
      a[2 * j + 1] = _mm_unpackhi_epi16(r[2 * j], r[2 * j + 1]);
    }
    // a[2j] = (r2j, r2j+1) elements 0..3 interleaved; a[2j+1] elements 4..7.
    for (int h = 0; h < 2; ++h) {
      b[4 * h + 0] = _mm_unpacklo_epi32(a[h], a[2 + h]);
      b[4 * h + 1] = _mm_unpackhi_epi32(a[h], a[2 + h]);
      b[4 * h + 2] = _mm_unpacklo_epi32(a[4 + h], a[6 + h]);
      b[4 * h + 3] = _mm_unpackhi_epi32(a[4 + h], a[6 + h]);
    }
    // b[4h + q] (q = 0, 1): elements 4h + 2q, 4h + 2q + 1 of rows 0..3; (q = 2, 3) of rows 4..7.
    for (int h = 0; h < 2; ++h) {
      for (int q = 0; q < 2; ++q) {
        const int e = 4 * h + 2 * q;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + e * drs), _mm_unpacklo_epi64(b[4 * h + q], b[4 * h + 2 + q]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (e + 1) * drs), _mm_unpackhi_epi64(b[4 * h + q], b[4 * h + 2 + q]));
      }
    }
  }
};

template <class T>
struct Tiles : copy_impl::LoopTile<T, 8> {};
template <>
struct Tiles<uint32_t> : Tile32 {};
template <>
struct Tiles<uint16_t> : Tile16 {};

void copy_rows(const StridedCopy& c, size_t row_begin, size_t row_end) { copy_impl::copy_rows<Tiles>(c, row_begin, row_end); }

}  // namespace

const CopyKernels kCopyAvx2 = {copy_rows};

}  // namespace bitnet
