// AVX2: maddubs (unsigned codes x signed activations -> int16 pairs) with int16 accumulation,
// widened to int32 by madd only once per 16 half-blocks (GEMV) or 64 steps (GEMM). The usual
// maddubs + madd + add chain needs two multiplier operations per 32 products; this takes one, so
// it is bounded by the other vector operations instead (measured: about the chain's own rate in
// a GEMV, 1.6x it in a GEMM).
//
// Bounds: a code is at most 2 and an activation at least -128, so a maddubs lane of codes is in
// [-512, 508]; of 4 x codes (a field masked in place) in [-2048, 2032]. Nothing saturates.
#include "cpu/ternary/x86_256.h"



namespace bitnet {
namespace {

using x86_256::hsum4;

// Half-blocks (32 bytes of a row) per int16 accumulation: each adds [-2048, 2032] (below).
constexpr size_t kFlushHalves = 16;

// One activation row against a group of four weight rows. Per 32-byte half of a row's block:
// one shift and four masks give codes of fields 0 and 2 (v & 3, v >> 4 & 3) and 4 x the codes
// of fields 1 and 3 (v & 12, v >> 4 & 12); lo = their maddubs with fields 0 and 2's activations,
// hi likewise with fields 1 and 3 (a multiple of 4, so hi >> 2 is exact). lo + (hi >> 2) is in
// [-2048, 2032], and 16 of them fit an int16.
void gemv_group(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const __m256i m3 = _mm256_set1_epi8(0x03), m12 = _mm256_set1_epi8(0x0c), ones = _mm256_set1_epi16(1);
  __m256i t0 = _mm256_setzero_si256(), t1 = t0, t2 = t0, t3 = t0;
  const size_t halves = 2 * blocks;
  for (size_t h0 = 0; h0 < halves; h0 += kFlushHalves) {
    const size_t h1 = std::min(halves, h0 + kFlushHalves);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 1
    for (size_t hh = h0; hh < h1; ++hh) {
      const size_t at = (hh >> 1) * kTernaryBlock + 32 * (hh & 1);
      const int8_t* xb = x + at;
      const uint8_t* gb = g + at;
      x86_256::prefetch_ahead(gb, hh);
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 64));
      const __m256i x2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 128));
      const __m256i x3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 192));
#define BITNET_ROW(r)                                                                                                   \
  {                                                                                                                    \
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + (r) * kTernaryBlockBytes));              \
    const __m256i s = _mm256_srli_epi16(v, 4);                                                                          \
    const __m256i lo = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, m3), x0),                             \
                                        _mm256_maddubs_epi16(_mm256_and_si256(s, m3), x2));                            \
    const __m256i hi = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, m12), x1),                            \
                                        _mm256_maddubs_epi16(_mm256_and_si256(s, m12), x3));                           \
    a##r = _mm256_add_epi16(a##r, _mm256_add_epi16(lo, _mm256_srai_epi16(hi, 2)));                                     \
  }
      BITNET_ROW(0)
      BITNET_ROW(1)
      BITNET_ROW(2)
      BITNET_ROW(3)
#undef BITNET_ROW
    }
    t0 = _mm256_add_epi32(t0, _mm256_madd_epi16(a0, ones));
    t1 = _mm256_add_epi32(t1, _mm256_madd_epi16(a1, ones));
    t2 = _mm256_add_epi32(t2, _mm256_madd_epi16(a2, ones));
    t3 = _mm256_add_epi32(t3, _mm256_madd_epi16(a3, ones));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), hsum4(t0, t1, t2, t3));
}

// GEMM micro-kernel: MR activation rows x the 16 rows of a panel. Per step (4 k) a row's 4
// activation bytes are broadcast and multiplied with the two panel vectors; lanes 2j and 2j + 1
// of an int16 accumulator hold weight row j's two pair sums, which madd adds into int32 lane j
// every 64 steps (64 x [-512, 508] fits an int16). Each row's broadcast, products and sums are one
// asm block: GCC otherwise hoists all broadcasts and products ahead of the sums and spills the
// twelve accumulators (measured: 230 against 430 GOPS).
struct Micro {
  static constexpr size_t kMicroRows = x86_256::kMicroRows;
  static void pack(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
    x86_256::pack_panel(w, kp, k0, kc, n, rows, panel);
  }
  template <size_t MR>
  static void tile(const int8_t* x, size_t ldx, const uint8_t* panel, size_t kc, int32_t* t) {
    static_assert(MR >= 1 && MR <= 6, "six rows of accumulators fit the 16 ymm registers");
    const __m256i ones = _mm256_set1_epi16(1);
    const size_t steps = kc / 4;
    for (size_t s0 = 0; s0 < steps; s0 += 64) {
      const size_t s1 = std::min(steps, s0 + 64);
      // Named accumulators, not an array: GCC keeps an array of them on the stack.
      const __m256i z = _mm256_setzero_si256();
      __m256i a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z, a50 = z, a51 = z;
      const uint8_t* p = panel + s0 * 64;
      const int8_t* xs = x + 4 * s0;
      for (size_t s = s0; s < s1; ++s, p += 64, xs += 4) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
#define BITNET_ROW(i)                                                                                      \
  if constexpr (MR > (i)) {                                                                               \
    __m256i xb, prod;                                                                                     \
    asm("vpbroadcastd %[m], %[xb]\n\t"                                                                    \
        "vpmaddubsw %[xb], %[w0], %[prod]\n\t"                                                            \
        "vpaddw %[prod], %[a0], %[a0]\n\t"                                                                \
        "vpmaddubsw %[xb], %[w1], %[prod]\n\t"                                                            \
        "vpaddw %[prod], %[a1], %[a1]"                                                                    \
        : [xb] "=&x"(xb), [prod] "=&x"(prod), [a0] "+x"(a##i##0), [a1] "+x"(a##i##1)                      \
        : [w0] "x"(w0), [w1] "x"(w1), [m] "m"(*reinterpret_cast<const int32_t*>(xs + (i) * ldx)));       \
  }
        BITNET_ROW(0)
        BITNET_ROW(1)
        BITNET_ROW(2)
        BITNET_ROW(3)
        BITNET_ROW(4)
        BITNET_ROW(5)
#undef BITNET_ROW
      }
      const __m256i acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
      for (size_t i = 0; i < MR; ++i) {
        __m256i lo = _mm256_madd_epi16(acc[i][0], ones), hi = _mm256_madd_epi16(acc[i][1], ones);
        __m256i* ti = reinterpret_cast<__m256i*>(t + i * x86_256::kPanelRows);
        if (s0 > 0) {
          lo = _mm256_add_epi32(lo, _mm256_load_si256(ti));
          hi = _mm256_add_epi32(hi, _mm256_load_si256(ti + 1));
        }
        _mm256_store_si256(ti, lo);
        _mm256_store_si256(ti + 1, hi);
      }
    }
  }
};

// Up to this many activation rows, a GEMV pass per row over each four-row group (it stays in L1
// between the passes) beats unpacking panels (2560 x 2560, Zen 5, 1 thread: M = 4 took 193 us
// by GEMV passes, 214 us by panels; M = 6, 268 against 271).
constexpr size_t kGemvRows = 5;

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
               size_t ldo, uint8_t* scratch) {
  ternary_drivers::dot_codes<Micro>(gemv_group, kGemvRows, x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
}

}  // namespace

const TernaryKernels kTernaryAvx2 = {dot_codes, x86_256::scale};

}  // namespace bitnet
