// AVX-512 VNNI: vpdpbusd multiplies unsigned codes by signed activations. Field f of a packed
// byte is isolated with a mask, not a shift: (byte & (3 << 2f)) = code * 4^f <= 128 still fits
// an unsigned byte, and the accumulator for field f is divided by 4^f (exactly) at the end.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace {

// vpdpbusd accumulating in place. GCC 12 copies the accumulator around the intrinsic (a register
// move per instruction, and stores of the accumulators every iteration), which cost a third of
// the GEMV throughput; the asm form keeps each accumulator in its register.
inline void dpbusd(__m512i& acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "vm"(s8));
}

// Field f's accumulator holds 4^f times its dot (a sum of multiples of 4^f, so the arithmetic
// shift is exact).
inline __m512i combine(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
  return _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_srai_epi32(a1, 2)),
                          _mm512_add_epi32(_mm512_srai_epi32(a2, 4), _mm512_srai_epi32(a3, 6)));
}

// Horizontal sums of four vectors at once (a transpose-and-add tree, then the four 128-bit
// lanes): a third of the instructions of four separate reductions, which matters at K = 2560
// where a group's loop is only ten blocks long.
inline __m128i reduce4(__m512i s0, __m512i s1, __m512i s2, __m512i s3) {
  const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(s0, s1), _mm512_unpackhi_epi32(s0, s1));
  const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(s2, s3), _mm512_unpackhi_epi32(s2, s3));
  const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// One activation row against a group of four weight rows (one sequential 256-byte stream per
// block): the activation loads are shared. The 16 accumulators are named variables, not an
// array: GCC kept an array of them on the stack and stored it every iteration (half the speed).
void gemv_group(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c);
  const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00;
  __m512i a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  __m512i a20 = a00, a21 = a00, a22 = a00, a23 = a00;
  __m512i a30 = a00, a31 = a00, a32 = a00, a33 = a00;
  for (size_t b = 0; b < blocks; ++b) {
    const int8_t* xb = x + b * kTernaryBlock;
    const uint8_t* gb = g + b * 4 * kTernaryBlockBytes;
    const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
    const __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
#define BITNET_ROW(r, v)                        \
  dpbusd(a##r##0, _mm512_and_si512(v, m0), x0); \
  dpbusd(a##r##1, _mm512_and_si512(v, m1), x1); \
  dpbusd(a##r##2, _mm512_and_si512(v, m2), x2); \
  dpbusd(a##r##3, _mm512_and_si512(v, m3), x3);
    const __m512i v0 = _mm512_loadu_si512(gb), v1 = _mm512_loadu_si512(gb + 64);
    const __m512i v2 = _mm512_loadu_si512(gb + 128), v3 = _mm512_loadu_si512(gb + 192);
    BITNET_ROW(0, v0)
    BITNET_ROW(1, v1)
    BITNET_ROW(2, v2)
    BITNET_ROW(3, v3)
#undef BITNET_ROW
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   reduce4(combine(a00, a01, a02, a03), combine(a10, a11, a12, a13), combine(a20, a21, a22, a23),
                           combine(a30, a31, a32, a33)));
}

// GEMM: weights are the vector operand. A panel of 32 weight rows is unpacked to codes laid out
// [k/4][32 rows][4 k] (128 bytes per 4 k, 8 KiB at K = 256: it stays in L1), and each step of the
// micro-kernel multiplies two panel vectors (32 rows x 4 k) by one activation row's 4 int8 values
// broadcast from memory ({1to16}), for 12 activation rows: 24 accumulators hold a 12 x 32 tile
// of outputs that is stored row by row, contiguous. Activations are read in place (no
// rearrangement), so the cost does not grow with M beyond the products themselves.
constexpr size_t kPanelRows = 32;
constexpr size_t kMicroRows = 12;

// Unpacks one row (its blocks are 256 bytes apart in the group layout) to codes in natural order.
void unpack_codes(const uint8_t* row, size_t blocks, uint8_t* codes) {
  const __m512i m = _mm512_set1_epi8(0x03);
  for (size_t b = 0; b < blocks; ++b) {
    const __m512i v = _mm512_loadu_si512(row + b * 4 * kTernaryBlockBytes);
    uint8_t* c = codes + b * kTernaryBlock;
    _mm512_storeu_si512(c, _mm512_and_si512(v, m));
    _mm512_storeu_si512(c + 64, _mm512_and_si512(_mm512_srli_epi16(v, 2), m));
    _mm512_storeu_si512(c + 128, _mm512_and_si512(_mm512_srli_epi16(v, 4), m));
    _mm512_storeu_si512(c + 192, _mm512_and_si512(_mm512_srli_epi16(v, 6), m));
  }
}

// k is processed in chunks of kPanelK (a 32-row panel chunk is 32 KiB: one L1); each chunk's
// products are added to the outputs of the chunks before it.
constexpr size_t kPanelK = 1024;

// Rows [n, n + rows) of w, k in [k0, k0 + kc), into a panel; rows past `rows` are zero codes
// (their outputs are not stored). `codes` holds one row's unpacked chunk.
void pack_panel(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* codes, uint8_t* panel) {
  const size_t k4 = kc / 4;
  for (size_t r = 0; r < kPanelRows; ++r) {
    if (r < rows) {
      unpack_codes(w + tl256_offset(kp, n + r, k0 / kTernaryBlock), kc / kTernaryBlock, codes);
      for (size_t k = 0; k < k4; ++k) std::memcpy(panel + k * 128 + r * 4, codes + 4 * k, 4);
    } else {
      for (size_t k = 0; k < k4; ++k) std::memset(panel + k * 128 + r * 4, 0, 4);
    }
  }
}

// out[i * ldo + j] = the 12 x 32 tile for i < 12, j < cols (a mask keeps the stores inside the
// row). Kept free of any other work: GCC spills the 24 accumulators as soon as the epilogue has
// a second path, so later k chunks go through a tile the caller adds.
void micro_12x32(const int8_t* x, size_t ldx, const uint8_t* panel, size_t kc, int32_t* out, size_t ldo, size_t cols) {
  // Named accumulators (not an array): GCC kept an array of them on the stack.
  const __m512i z = _mm512_setzero_si512();
  __m512i a0_0 = z, a0_1 = z;
  __m512i a1_0 = z, a1_1 = z;
  __m512i a2_0 = z, a2_1 = z;
  __m512i a3_0 = z, a3_1 = z;
  __m512i a4_0 = z, a4_1 = z;
  __m512i a5_0 = z, a5_1 = z;
  __m512i a6_0 = z, a6_1 = z;
  __m512i a7_0 = z, a7_1 = z;
  __m512i a8_0 = z, a8_1 = z;
  __m512i a9_0 = z, a9_1 = z;
  __m512i a10_0 = z, a10_1 = z;
  __m512i a11_0 = z, a11_1 = z;
  const size_t k4 = kc / 4;
  for (size_t k = 0; k < k4; ++k) {
    const __m512i w0 = _mm512_loadu_si512(panel + k * 128);
    const __m512i w1 = _mm512_loadu_si512(panel + k * 128 + 64);
#define BITNET_MICRO_ROW(i)                               \
  {                                                       \
    int32_t x4;                                           \
    std::memcpy(&x4, x + (i) * ldx + 4 * k, 4);           \
    const __m512i xb = _mm512_set1_epi32(x4);             \
    dpbusd(a##i##_0, w0, xb);                             \
    dpbusd(a##i##_1, w1, xb);                             \
  }
    BITNET_MICRO_ROW(0)
    BITNET_MICRO_ROW(1)
    BITNET_MICRO_ROW(2)
    BITNET_MICRO_ROW(3)
    BITNET_MICRO_ROW(4)
    BITNET_MICRO_ROW(5)
    BITNET_MICRO_ROW(6)
    BITNET_MICRO_ROW(7)
    BITNET_MICRO_ROW(8)
    BITNET_MICRO_ROW(9)
    BITNET_MICRO_ROW(10)
    BITNET_MICRO_ROW(11)
#undef BITNET_MICRO_ROW
  }
  const __mmask16 m0 = cols >= 16 ? 0xffff : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
  _mm512_mask_storeu_epi32(out + 0 * ldo, m0, a0_0);
  _mm512_mask_storeu_epi32(out + 0 * ldo + 16, m1, a0_1);
  _mm512_mask_storeu_epi32(out + 1 * ldo, m0, a1_0);
  _mm512_mask_storeu_epi32(out + 1 * ldo + 16, m1, a1_1);
  _mm512_mask_storeu_epi32(out + 2 * ldo, m0, a2_0);
  _mm512_mask_storeu_epi32(out + 2 * ldo + 16, m1, a2_1);
  _mm512_mask_storeu_epi32(out + 3 * ldo, m0, a3_0);
  _mm512_mask_storeu_epi32(out + 3 * ldo + 16, m1, a3_1);
  _mm512_mask_storeu_epi32(out + 4 * ldo, m0, a4_0);
  _mm512_mask_storeu_epi32(out + 4 * ldo + 16, m1, a4_1);
  _mm512_mask_storeu_epi32(out + 5 * ldo, m0, a5_0);
  _mm512_mask_storeu_epi32(out + 5 * ldo + 16, m1, a5_1);
  _mm512_mask_storeu_epi32(out + 6 * ldo, m0, a6_0);
  _mm512_mask_storeu_epi32(out + 6 * ldo + 16, m1, a6_1);
  _mm512_mask_storeu_epi32(out + 7 * ldo, m0, a7_0);
  _mm512_mask_storeu_epi32(out + 7 * ldo + 16, m1, a7_1);
  _mm512_mask_storeu_epi32(out + 8 * ldo, m0, a8_0);
  _mm512_mask_storeu_epi32(out + 8 * ldo + 16, m1, a8_1);
  _mm512_mask_storeu_epi32(out + 9 * ldo, m0, a9_0);
  _mm512_mask_storeu_epi32(out + 9 * ldo + 16, m1, a9_1);
  _mm512_mask_storeu_epi32(out + 10 * ldo, m0, a10_0);
  _mm512_mask_storeu_epi32(out + 10 * ldo + 16, m1, a10_1);
  _mm512_mask_storeu_epi32(out + 11 * ldo, m0, a11_0);
  _mm512_mask_storeu_epi32(out + 11 * ldo + 16, m1, a11_1);
}

void gemm(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out, size_t ldo,
          uint8_t* scratch) {
  const size_t kc_max = std::min(kp, kPanelK);
  uint8_t* panel = scratch;                                   // 32 * kPanelK
  uint8_t* codes = scratch + kPanelRows * kPanelK;             // kPanelK
  int8_t* xtail = reinterpret_cast<int8_t*>(codes + kPanelK);  // 12 * kp
  alignas(64) int32_t tile[kMicroRows * kPanelRows];
  const size_t full = m / kMicroRows * kMicroRows;
  if (full < m) {
    // The last rows of activations, zero padded to a whole micro tile (read in place otherwise).
    std::memset(xtail, 0, kMicroRows * kp);
    for (size_t i = full; i < m; ++i) std::memcpy(xtail + (i - full) * kp, x + i * ldx, kp);
  }
  for (size_t n = n0; n < n1; n += kPanelRows) {
    const size_t cols = std::min(kPanelRows, n1 - n);
    for (size_t k0 = 0; k0 < kp; k0 += kc_max) {
      const size_t kc = std::min(kc_max, kp - k0);
      const bool accumulate = k0 > 0;
      pack_panel(w, kp, k0, kc, n, cols, codes, panel);
      for (size_t i = 0; i < full; i += kMicroRows) {
        if (!accumulate) {
          micro_12x32(x + i * ldx + k0, ldx, panel, kc, out + i * ldo + n, ldo, cols);
          continue;
        }
        micro_12x32(x + i * ldx + k0, ldx, panel, kc, tile, kPanelRows, cols);
        for (size_t r = 0; r < kMicroRows; ++r) {
          int32_t* o = out + (i + r) * ldo + n;
          for (size_t j = 0; j < cols; ++j) o[j] += tile[r * kPanelRows + j];
        }
      }
      if (full < m) {
        micro_12x32(xtail + k0, kp, panel, kc, tile, kPanelRows, cols);
        for (size_t i = 0; i < m - full; ++i) {
          int32_t* o = out + (full + i) * ldo + n;
          for (size_t j = 0; j < cols; ++j) o[j] = (accumulate ? o[j] : 0) + tile[i * kPanelRows + j];
        }
      }
    }
  }
}

// Short, wide products (M <= kShortM, e.g. prefill of a few tokens against 2560 x 6912 weights):
// here the activations are the vector operand instead. They are rearranged once per call to
// xt[k/4][m][4] (rows padded to 32), a zmm holds 4 consecutive k of 16 rows, and each of 12 weight
// rows' 4 codes at that k are broadcast: the weights stream through once per 32 activation rows,
// which wins while M is small (measured: 700-740 GOPS at M = 128, 2 threads, vs 590-700 for the
// panel kernel, which re-reads all activations for every 32 weight rows).
constexpr size_t kShortM = 256;
// Up to this many activation rows, GEMV passes over each weight group beat unpacking the weights
// into panels (whose cost does not shrink with M): see bench/kernels' small-M rows.
constexpr size_t kGemvRows = 16;
constexpr size_t kShortRowsM = 32;

void rearrange_x(const int8_t* x, size_t ldx, size_t m, size_t mp, size_t kp, int32_t* xt) {
  const size_t k4 = kp / 4;
  for (size_t i = 0; i < mp; ++i) {
    if (i < m) {
      const int32_t* row = reinterpret_cast<const int32_t*>(x + i * ldx);
      for (size_t k = 0; k < k4; ++k) std::memcpy(xt + k * mp + i, row + k, 4);
    } else {
      for (size_t k = 0; k < k4; ++k) xt[k * mp + i] = 0;
    }
  }
}

void micro_short(const uint8_t* codes, size_t kp, const int32_t* xt, size_t mp, size_t m0, int32_t out[kMicroRows][32]) {
  __m512i acc[kMicroRows][2];
  for (auto& r : acc) r[0] = r[1] = _mm512_setzero_si512();
  const size_t k4 = kp / 4;
  for (size_t k = 0; k < k4; ++k) {
    const __m512i xa = _mm512_loadu_si512(xt + k * mp + m0);
    const __m512i xb = _mm512_loadu_si512(xt + k * mp + m0 + 16);
    for (size_t j = 0; j < kMicroRows; ++j) {
      int32_t w4;
      std::memcpy(&w4, codes + j * kp + 4 * k, 4);
      const __m512i wb = _mm512_set1_epi32(w4);
      acc[j][0] = _mm512_dpbusd_epi32(acc[j][0], wb, xa);
      acc[j][1] = _mm512_dpbusd_epi32(acc[j][1], wb, xb);
    }
  }
  for (size_t j = 0; j < kMicroRows; ++j) {
    _mm512_storeu_si512(out[j], acc[j][0]);
    _mm512_storeu_si512(out[j] + 16, acc[j][1]);
  }
}

void gemm_short(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
                size_t ldo, uint8_t* scratch) {
  const size_t blocks = kp / kTernaryBlock;
  const size_t mp = (m + kShortRowsM - 1) / kShortRowsM * kShortRowsM;
  uint8_t* codes = scratch;
  int32_t* xt = reinterpret_cast<int32_t*>(scratch + kMicroRows * kp);
  rearrange_x(x, ldx, m, mp, kp, xt);
  for (size_t nt = n0; nt < n1; nt += kMicroRows) {
    const size_t rows = std::min(kMicroRows, n1 - nt);
    for (size_t r = 0; r < rows; ++r) unpack_codes(w + tl256_offset(kp, nt + r, 0), blocks, codes + r * kp);
    // Rows past the end compute into discarded outputs; zero them so no stale bytes are read.
    if (rows < kMicroRows) std::memset(codes + rows * kp, 0, (kMicroRows - rows) * kp);
    for (size_t m0 = 0; m0 < mp; m0 += kShortRowsM) {
      alignas(64) int32_t tile[kMicroRows][32];
      micro_short(codes, kp, xt, mp, m0, tile);
      const size_t mm = std::min<size_t>(kShortRowsM, m - m0);
      for (size_t j = 0; j < rows; ++j)
        for (size_t i = 0; i < mm; ++i) out[(m0 + i) * ldo + nt + j] = tile[j][i];
    }
  }
}

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1,
               int32_t* out, size_t ldo, uint8_t* scratch) {
  const size_t blocks = kp / kTernaryBlock;
  if (m > kGemvRows) {
    if (m <= kShortM) gemm_short(x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
    else gemm(x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
    return;
  }
  // A group of four weight rows (at most a few KiB) is read from memory once and stays in L1
  // while every activation row passes over it: a batch of decode steps costs one weight read.
  for (size_t n = n0; n < n1; n += 4) {
    const uint8_t* g = w + tl256_offset(kp, n, 0);
    for (size_t i = 0; i < m; ++i) {
      int32_t r4[4];
      gemv_group(x + i * ldx, g, blocks, r4);
      // A last partial group still computes four rows (the padding rows are zero weights).
      for (size_t r = 0; r < 4 && n + r < n1; ++r) out[i * ldo + n + r] = r4[r];
    }
  }
}

// Eight lanes of the float64 scaling; the tail and per-row scales of odd lengths go through the
// scalar function, which rounds identically.
void scale(float* row, size_t n0, size_t n1, int32_t xsum, float xscale, const float* wscale, bool per_row) {
  const __m512d xs = _mm512_set1_pd(xscale);
  const __m256i s = _mm256_set1_epi32(xsum);
  size_t j = n0;
  for (; j + 8 <= n1; j += 8) {
    const __m256i d = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j)), s);
    const __m512d ws = per_row ? _mm512_cvtps_pd(_mm256_loadu_ps(wscale + j)) : _mm512_set1_pd(wscale[0]);
    const __m512d y = _mm512_div_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(d), ws), xs);
    _mm256_storeu_ps(row + j, _mm512_cvtpd_ps(y));
  }
  scale_dots_ref(row, j, n1, xsum, xscale, wscale, per_row);
}

}  // namespace

const TernaryKernels kTernaryAvx512 = {dot_codes, scale};

}  // namespace bitnet
