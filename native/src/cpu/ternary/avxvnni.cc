// AVX-VNNI (VEX vpdpbusd on 256-bit vectors: Alder Lake and later, Zen 5): unsigned codes x
// signed activations summed in fours straight into int32 lanes, without saturation, so there is
// no int16 stage and no widening. Otherwise the same kernels as avx2.cc.
#include "cpu/ternary/x86_256.h"

namespace bitnet {
namespace {

using x86_256::hsum4;

// acc += dpbusd(u8, s8) in place, VEX-encoded (GCC copies the accumulator around the
// intrinsic; see avx512.cc).
inline void dpbusd(__m256i& acc, __m256i u8, __m256i s8) { asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u8), "xm"(s8)); }

// One activation row against a group of four weight rows: per 32-byte half of a row's block,
// one shift and four masks give codes of fields 0 and 2 (accumulated in a) and 4 x the codes of
// fields 1 and 3 (accumulated in c, divided by 4 exactly at the end).
void gemv_group(const int8_t* x, const uint8_t* g, size_t blocks, int32_t* out) {
  const __m256i m3 = _mm256_set1_epi8(0x03), m12 = _mm256_set1_epi8(0x0c);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (size_t hh = 0; hh < 2 * blocks; ++hh) {
    const size_t at = (hh >> 1) * kTernaryBlock + 32 * (hh & 1);
    const int8_t* xb = x + at;
    const uint8_t* gb = g + at;
    x86_256::prefetch_ahead(gb, hh);
#define BITNET_ROW(r)                                                                                              \
  {                                                                                                               \
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + (r) * kTernaryBlockBytes));         \
    const __m256i s = _mm256_srli_epi16(v, 4);                                                                     \
    dpbusd(a##r, _mm256_and_si256(v, m3), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb)));               \
    dpbusd(a##r, _mm256_and_si256(s, m3), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 128)));         \
    dpbusd(c##r, _mm256_and_si256(v, m12), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 64)));         \
    dpbusd(c##r, _mm256_and_si256(s, m12), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 192)));        \
  }
    BITNET_ROW(0)
    BITNET_ROW(1)
    BITNET_ROW(2)
    BITNET_ROW(3)
#undef BITNET_ROW
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   hsum4(_mm256_add_epi32(a0, _mm256_srai_epi32(c0, 2)), _mm256_add_epi32(a1, _mm256_srai_epi32(c1, 2)),
                         _mm256_add_epi32(a2, _mm256_srai_epi32(c2, 2)), _mm256_add_epi32(a3, _mm256_srai_epi32(c3, 2))));
}

// GEMM micro-kernel: MR activation rows x the 16 rows of a panel, int32 accumulators fed by
// vpdpbusd of the two panel vectors with a row's 4 broadcast activation bytes (one asm block per
// row, as in avx2.cc).
struct Micro {
  static constexpr size_t kMicroRows = x86_256::kMicroRows;
  static void pack(const uint8_t* w, size_t kp, size_t k0, size_t kc, size_t n, size_t rows, uint8_t* panel) {
    x86_256::pack_panel(w, kp, k0, kc, n, rows, panel);
  }
  template <size_t MR>
  static void tile(const int8_t* x, size_t ldx, const uint8_t* panel, size_t kc, int32_t* t) {
    static_assert(MR >= 1 && MR <= 6, "six rows of accumulators fit the 16 ymm registers");
    // Named accumulators, not an array: GCC keeps an array of them on the stack.
    const __m256i z = _mm256_setzero_si256();
    __m256i a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z, a50 = z, a51 = z;
    const uint8_t* p = panel;
    const int8_t* xs = x;
    for (size_t s = 0; s < kc / 4; ++s, p += 64, xs += 4) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
#define BITNET_ROW(i)                                                                                      \
  if constexpr (MR > (i)) {                                                                               \
    __m256i xb;                                                                                           \
    asm("vpbroadcastd %[m], %[xb]\n\t"                                                                    \
        "%{vex%} vpdpbusd %[xb], %[w0], %[a0]\n\t"                                                        \
        "%{vex%} vpdpbusd %[xb], %[w1], %[a1]"                                                            \
        : [xb] "=&x"(xb), [a0] "+x"(a##i##0), [a1] "+x"(a##i##1)                                          \
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
      __m256i* ti = reinterpret_cast<__m256i*>(t + i * x86_256::kPanelRows);
      _mm256_store_si256(ti, acc[i][0]);
      _mm256_store_si256(ti + 1, acc[i][1]);
    }
  }
};

// Up to this many activation rows, GEMV passes beat panels (as in avx2.cc: M = 4 took 176 us by
// GEMV passes, 223 us by panels).
constexpr size_t kGemvRows = 5;

void dot_codes(const int8_t* x, size_t ldx, size_t m, const uint8_t* w, size_t kp, size_t n0, size_t n1, int32_t* out,
               size_t ldo, uint8_t* scratch) {
  ternary_drivers::dot_codes<Micro>(gemv_group, kGemvRows, x, ldx, m, w, kp, n0, n1, out, ldo, scratch);
}

}  // namespace

const TernaryKernels kTernaryAvxVnni = {dot_codes, x86_256::scale};

}  // namespace bitnet
