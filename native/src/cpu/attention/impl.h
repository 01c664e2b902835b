// The attention kernels, written once and compiled per ISA (ref.cc at baseline, avx2.cc,
// avx512.cc with their flags). Included only by those files.
//
// Each (batch, kv head) task is computed like a few small GEMMs, because the plain per-row dot
// and axpy loops reload every K and V row once per query row and cannot keep anything in
// registers. The task's K (and V, for the backward's dP) is transposed into scratch once, so
// the scores of a block of query rows against a vector of consecutive keys are register
// accumulators fed by broadcasts of q over head_dim; P V, dS K, dS^T Q and P^T dO are the same
// register tile over head_dim vectors. Keys and head_dim are padded to whole vectors in scratch
// (zeros, and -inf scores beyond the causal limit), so no kernel has a remainder loop.
//
// Every value is one fixed-order sum whatever the tiling (a score over head_dim in order, an
// output row over keys in order, a dK/dV row over query rows in order, its accumulator stored
// and reloaded between tiles), the only difference between tilings being exactly-zero terms of
// masked keys: results do not depend on the thread count. Those zero terms are the one change
// from a row-at-a-time loop: the rows of a block share the keys of its last row, so an inf or
// NaN in one of the up to kR - 1 V rows (forward) or K rows (dQ) past a row's causal limit
// reaches that row as 0 * inf. Finite inputs are unaffected.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/attention/attention.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace bitnet {
// Internal linkage: each including file gets its own copy compiled with its own ISA flags (an
// inline function shared between them would let the linker keep the AVX-512 copy for all).
namespace {
namespace attention_impl {

// Vectors of 8 floats for AVX2 and AVX-512 alike, 4 at baseline (SSE2, NEON). GCC lowers a
// vector-extension type wider than the registers through the stack (f32x16 in the AVX2 build
// spilled every accumulator), and on this machine (Zen 4, 512-bit operations issued as two
// 256-bit halves) 8-wide tiles measured faster than 16-wide ones: 115 against 90 GFLOP/s on
// one core with the operands in L1.
// A register tile is R rows x C vectors of accumulators; with the C loaded vectors and a
// broadcast it fits 16 registers: kR query rows per block, kC vectors per tile.
#if defined(__AVX2__)
constexpr size_t kW = 8, kR = 4, kC = 3;
#else
constexpr size_t kW = 4, kR = 4, kC = 2;
#endif
static_assert(16 % kW == 0, "scratch rows are padded to 16 floats");
static_assert(kR <= kAttentionBlockRows, "a block's scratch is sized in attention.h");
// Keys per dK/dV tile: it divides kW (4 or 8), so a tile never reads past the padded scores of
// its rows (see backward).
constexpr size_t kKeys = 4;

typedef float vf __attribute__((vector_size(kW * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kW * sizeof(float))));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return vf{} + x; }
inline vi iota() {
  vi v{};
  for (size_t i = 0; i < kW; ++i) v[i] = static_cast<int32_t>(i);
  return v;
}
inline float hmax(vf v) {
  float m = v[0];
  for (size_t i = 1; i < kW; ++i) m = v[i] > m ? v[i] : m;
  return m;
}
// Pairwise, in a fixed order.
inline float hsum(vf v) {
  float a[kW];
  std::memcpy(a, &v, sizeof v);
  for (size_t w = kW / 2; w >= 1; w /= 2)
    for (size_t i = 0; i < w; ++i) a[i] += a[i + w];
  return a[0];
}

// e^x in plain float operations, lane by lane (a lane's value depends only on its input, so
// any vector width gives the same result): x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two
// so that n * hi is exact and r accurate), e^r by Cephes' expf polynomial, 2^n built in the
// exponent bits. Error under 1 ulp over [-87.3, 88] (checked against double exp on every float
// of that range). Below -87.3, where e^x is under the smallest normal float, and at -inf it
// returns 0; inputs are clamped at 88 (no inf or NaN from finite input; the softmax arguments
// are at most about 0).
inline vf vexp(vf x) {
  const vf lo = splat(-87.3f), hi = splat(88.0f);
  const vf xc = x < lo ? lo : (x > hi ? hi : x);
  // Adding 1.5 * 2^23 rounds x / ln2 to an integer held in the low mantissa bits.
  const vf magic = splat(12582912.0f);
  const vf t = xc * 1.44269504088896341f + magic;
  const vf n = t - magic;
  const vf r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  vf p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const vf y = (p * (r * r) + r) + 1.0f;
  vi ti, mi;
  std::memcpy(&ti, &t, sizeof t);
  std::memcpy(&mi, &magic, sizeof magic);
  const vi bits = (ti - mi + 127) << 23;
  vf two_n;
  std::memcpy(&two_n, &bits, sizeof bits);
  return x < lo ? splat(0.0f) : y * two_n;
}

inline float dot(const float* a, const float* b, size_t n) {
  // Eight partial sums so the vectoriser may reorder within a fixed pattern.
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

// The register tile: o[r][x] (+)= sum_{k < n} a[r * ar + k * ak] * b[k * ldb + x] for r < R,
// x < C * kW, summed over k in order. With ak = 1 it is rows of a times b (scores against K^T,
// P V, dS K); with ar = 1 it is a^T b (dS^T Q, P^T dO, accumulating into dK and dV).
template <size_t R, size_t C, bool Accumulate>
inline void tile(const float* a, size_t ar, size_t ak, const float* b, size_t ldb, size_t n, float* o, size_t ldo) {
  vf acc[R][C];
#pragma GCC unroll 8
  for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (size_t c = 0; c < C; ++c) acc[r][c] = Accumulate ? load(o + r * ldo + c * kW) : vf{};
  for (size_t k = 0; k < n; ++k) {
    vf bv[C];
#pragma GCC unroll 4
    for (size_t c = 0; c < C; ++c) bv[c] = load(b + k * ldb + c * kW);
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
      const float x = a[r * ar + k * ak];
#pragma GCC unroll 4
      for (size_t c = 0; c < C; ++c) acc[r][c] += x * bv[c];
    }
  }
#pragma GCC unroll 8
  for (size_t r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (size_t c = 0; c < C; ++c) store(o + r * ldo + c * kW, acc[r][c]);
}

// Tiles across `cols` columns (a multiple of kW): kC vectors at a time, then 2, then 1.
template <size_t R, bool Accumulate>
inline void tiles(const float* a, size_t ar, size_t ak, const float* b, size_t ldb, size_t n, size_t cols, float* o,
                  size_t ldo) {
  size_t x = 0;
  for (; x + kC * kW <= cols; x += kC * kW) tile<R, kC, Accumulate>(a, ar, ak, b + x, ldb, n, o + x, ldo);
  if (kC > 2)
    for (; x + 2 * kW <= cols; x += 2 * kW) tile<R, 2, Accumulate>(a, ar, ak, b + x, ldb, n, o + x, ldo);
  for (; x < cols; x += kW) tile<R, 1, Accumulate>(a, ar, ak, b + x, ldb, n, o + x, ldo);
}

inline size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// dst[j][0, hd) = src row j (rows `stride` apart) for j < rows, zeros up to ld and in the rows
// up to `padded`.
inline void pad_rows(const float* src, size_t stride, size_t rows, size_t hd, float* dst, size_t ld, size_t padded) {
  for (size_t j = 0; j < rows; ++j) {
    for (size_t i = 0; i < hd; ++i) dst[j * ld + i] = src[j * stride + i];
    for (size_t i = hd; i < ld; ++i) dst[j * ld + i] = 0;
  }
  for (size_t i = rows * ld; i < padded * ld; ++i) dst[i] = 0;
}

// A kW x kW block: dst[i * ds + j] = src[j * ss + i], by interleaving row pairs (element-wise
// moves, no arithmetic: exact on every ISA). __builtin_shufflevector: GCC 12 and clang.
inline void transpose_block(const float* src, size_t ss, float* dst, size_t ds) {
#define SHUFFLE __builtin_shufflevector
#if defined(__AVX2__)
  static_assert(kW == 8, "");
  const vf a0 = load(src), a1 = load(src + ss), a2 = load(src + 2 * ss), a3 = load(src + 3 * ss);
  const vf a4 = load(src + 4 * ss), a5 = load(src + 5 * ss), a6 = load(src + 6 * ss), a7 = load(src + 7 * ss);
  // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves.
  const vf t0 = SHUFFLE(a0, a1, 0, 8, 1, 9, 4, 12, 5, 13), t1 = SHUFFLE(a0, a1, 2, 10, 3, 11, 6, 14, 7, 15);
  const vf t2 = SHUFFLE(a2, a3, 0, 8, 1, 9, 4, 12, 5, 13), t3 = SHUFFLE(a2, a3, 2, 10, 3, 11, 6, 14, 7, 15);
  const vf t4 = SHUFFLE(a4, a5, 0, 8, 1, 9, 4, 12, 5, 13), t5 = SHUFFLE(a4, a5, 2, 10, 3, 11, 6, 14, 7, 15);
  const vf t6 = SHUFFLE(a6, a7, 0, 8, 1, 9, 4, 12, 5, 13), t7 = SHUFFLE(a6, a7, 2, 10, 3, 11, 6, 14, 7, 15);
  const vf u0 = SHUFFLE(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13), u1 = SHUFFLE(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  const vf u2 = SHUFFLE(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13), u3 = SHUFFLE(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  const vf u4 = SHUFFLE(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13), u5 = SHUFFLE(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  const vf u6 = SHUFFLE(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13), u7 = SHUFFLE(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  store(dst, SHUFFLE(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11));
  store(dst + ds, SHUFFLE(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11));
  store(dst + 2 * ds, SHUFFLE(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11));
  store(dst + 3 * ds, SHUFFLE(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11));
  store(dst + 4 * ds, SHUFFLE(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15));
  store(dst + 5 * ds, SHUFFLE(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15));
  store(dst + 6 * ds, SHUFFLE(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15));
  store(dst + 7 * ds, SHUFFLE(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15));
#else
  static_assert(kW == 4, "");
  const vf a0 = load(src), a1 = load(src + ss), a2 = load(src + 2 * ss), a3 = load(src + 3 * ss);
  const vf t0 = SHUFFLE(a0, a1, 0, 4, 1, 5), t1 = SHUFFLE(a0, a1, 2, 6, 3, 7);
  const vf t2 = SHUFFLE(a2, a3, 0, 4, 1, 5), t3 = SHUFFLE(a2, a3, 2, 6, 3, 7);
  store(dst, SHUFFLE(t0, t2, 0, 1, 4, 5));
  store(dst + ds, SHUFFLE(t0, t2, 2, 3, 6, 7));
  store(dst + 2 * ds, SHUFFLE(t1, t3, 0, 1, 4, 5));
  store(dst + 3 * ds, SHUFFLE(t1, t3, 2, 3, 6, 7));
#endif
#undef SHUFFLE
}

// dst[i][j] = src[j][i] for the padded rows src [rows][hdp] (both multiples of kW), zeros for
// rows <= j < ld. Transposing a padded copy rather than the strided input reads the input once,
// in whole rows.
inline void transpose(const float* src, size_t rows, size_t hdp, float* dst, size_t ld) {
  for (size_t j = 0; j < rows; j += kW)
    for (size_t i = 0; i < hdp; i += kW) transpose_block(src + j * hdp + i, hdp, dst + i * ld + j, ld);
  for (size_t i = 0; i < hdp; ++i)
    for (size_t x = rows; x < ld; ++x) dst[i * ld + x] = 0;
}

// The caller runs each thread's tasks in index order (b * kv_heads + g), and a task's rows are
// a whole position apart (every head's vector in between), which the hardware prefetchers
// follow poorly: a task would start by waiting on memory. So a task lists the next task's input
// rows and issues prefetches for a share of them at every step (a block of query rows or of
// keys). Measured: forward 6-12% and backward 3-7% faster at the training shape.
class NextTask {
 public:
  NextTask(const AttentionShape& s, size_t b, size_t g) : s_(s) {
    if (++g == s.kv_heads) g = 0, ++b;
    valid_ = b < s.batch;
    b_ = b, g_ = g;
  }
  // The next task's rows of a k or v shaped tensor (its kv head), or of a q shaped one (its
  // query heads, adjacent in a row).
  void add_kv(const float* t) {
    if (valid_) add(t + (b_ * s_.kv_len * s_.kv_heads + g_) * s_.head_dim, s_.kv_heads * s_.head_dim, s_.kv_len, s_.head_dim);
  }
  void add_q(const float* t) {
    const size_t group = s_.q_heads / s_.kv_heads;
    if (valid_) add(t + (b_ * s_.q_len * s_.q_heads + g_ * group) * s_.head_dim, s_.q_heads * s_.head_dim, s_.q_len, group * s_.head_dim);
  }
  // Spreads the rows over `steps` calls of step().
  void spread(size_t steps) {
    size_t rows = 0;
    for (size_t i = 0; i < count_; ++i) rows += spans_[i].rows;
    per_step_ = steps == 0 ? rows : (rows + steps - 1) / steps;
  }
  void step() {
    for (size_t n = 0; n < per_step_ && span_ < count_; ++n) {
      const Span& sp = spans_[span_];
      for (size_t i = 0; i < sp.width; i += 64 / sizeof(float)) __builtin_prefetch(sp.p + row_ * sp.stride + i);
      if (++row_ == sp.rows) row_ = 0, ++span_;
    }
  }

 private:
  struct Span {
    const float* p;
    size_t stride, rows, width;
  };
  void add(const float* p, size_t stride, size_t rows, size_t width) { spans_[count_++] = {p, stride, rows, width}; }
  const AttentionShape& s_;
  size_t b_, g_;
  bool valid_;
  Span spans_[5];
  size_t count_ = 0, span_ = 0, row_ = 0, per_step_ = 0;
};

// f(rows, t) over the rows [t0, t1) in blocks of kR rows, then single rows (rows an
// std::integral_constant).
template <class F>
inline void for_blocks(size_t t0, size_t t1, F&& f) {
  size_t t = t0;
  for (; t + kR <= t1; t += kR) f(std::integral_constant<size_t, kR>{}, t);
  for (; t < t1; ++t) f(std::integral_constant<size_t, 1>{}, t);
}

// One row of raw scores (cols of them, a multiple of kW) in place -> e^(scale * s - m) for the
// keys below lim and 0 beyond, with m the max of the scaled scores; returns the row sum in l.
inline void softmax_row(float* sr, size_t cols, size_t lim, float scale, float& m, float& l) {
  const vi idx = iota();
  const int32_t live = static_cast<int32_t>(lim);
  vf mx = splat(-INFINITY);
  for (size_t j = 0; j < cols; j += kW) {
    const vf v = (idx + static_cast<int32_t>(j)) < live ? load(sr + j) * scale : splat(-INFINITY);
    store(sr + j, v);
    mx = v > mx ? v : mx;
  }
  m = hmax(mx);
  vf sum{};
  for (size_t j = 0; j < cols; j += kW) {
    const vf p = vexp(load(sr + j) - m);
    store(sr + j, p);
    sum += p;
  }
  l = hsum(sum);
}

// Forward of query rows t .. t + R - 1 of one head: scores against the keys the last row sees,
// softmax, then P V.
template <size_t R>
inline void forward_block(const AttentionShape& s, size_t t, const float* qh, size_t qs, const float* kt, size_t ldk,
                          const float* vp, size_t hdp, float* sc, float* ot, float* oh, float* lh) {
  const size_t hd = s.head_dim, past = s.kv_len - s.q_len;
  const size_t n = t + R + past, cols = round_up(n, kW);
  tiles<R, false>(qh + t * qs, qs, 1, kt, ldk, hd, cols, sc, ldk);
  float inv[R];
  for (size_t r = 0; r < R; ++r) {
    float m, l;
    softmax_row(sc + r * ldk, cols, t + r + past + 1, s.scale, m, l);
    inv[r] = 1.0f / l;
    lh[t + r] = m + std::log(l);
  }
  tiles<R, false>(sc, ldk, 1, vp, hdp, n, hdp, ot, hdp);
  for (size_t r = 0; r < R; ++r)
    for (size_t i = 0; i < hd; ++i) oh[(t + r) * qs + i] = ot[r * hdp + i] * inv[r];
}

// The forward of a task with fewer query rows than a block (decoding a position against a KV
// cache): copying and transposing K and V would cost more than the tiles save, so each row
// reads the K and V rows in place, a dot product per key and P V as a sum of V rows in order.
inline void forward_rows(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v,
                         float* out, float* lse, float* scratch) {
  const size_t hd = s.head_dim, group = s.q_heads / s.kv_heads, nq = s.q_len, nk = s.kv_len, past = nk - nq;
  const size_t ks = s.kv_heads * hd;
  float* sc = scratch;                   // a row of scores [ldk]
  float* o = sc + attention_ldk(s);      // its P V [hd]
  const float* kh = k + (b * nk * s.kv_heads + g) * hd;
  const float* vh = v + (b * nk * s.kv_heads + g) * hd;
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    for (size_t t = 0; t < nq; ++t) {
      const size_t q0 = ((b * nq + t) * s.q_heads + hq) * hd, n = t + past + 1, cols = round_up(n, kW);
      for (size_t j = 0; j < n; ++j) sc[j] = dot(q + q0, kh + j * ks, hd);
      for (size_t j = n; j < cols; ++j) sc[j] = 0;
      float m, l;
      softmax_row(sc, cols, n, s.scale, m, l);
      for (size_t i = 0; i < hd; ++i) o[i] = 0;
      for (size_t j = 0; j < n; ++j)
        for (size_t i = 0; i < hd; ++i) o[i] += sc[j] * vh[j * ks + i];
      const float inv = 1.0f / l;
      for (size_t i = 0; i < hd; ++i) out[q0 + i] = o[i] * inv;
      lse[(b * s.q_heads + hq) * nq + t] = m + std::log(l);
    }
  }
}

inline void forward(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v, float* out,
                    float* lse, float* scratch) {
  const size_t hd = s.head_dim, group = s.q_heads / s.kv_heads, nq = s.q_len, nk = s.kv_len;
  if (nq * group < kR) return forward_rows(s, b, g, q, k, v, out, lse, scratch);
  const size_t ldk = attention_ldk(s), hdp = attention_pad16(hd);
  const size_t qs = s.q_heads * hd, ks = s.kv_heads * hd;  // floats between consecutive positions
  const size_t n16 = attention_pad16(nk);
  float* kt = scratch;           // K^T [hdp][ldk]
  float* kp = kt + hdp * ldk;    // K [n16][hdp], to transpose
  float* vp = kp + n16 * hdp;    // V [n16][hdp]
  float* sc = vp + n16 * hdp;    // scores, then probabilities, of a block [kR][ldk]
  float* ot = sc + kR * ldk;     // P V of a block [kR][hdp]
  const size_t kv0 = (b * nk * s.kv_heads + g) * hd;
  pad_rows(k + kv0, ks, nk, hd, kp, hdp, n16);
  transpose(kp, n16, hdp, kt, ldk);
  pad_rows(v + kv0, ks, nk, hd, vp, hdp, n16);
  NextTask next(s, b, g);
  next.add_kv(k);
  next.add_kv(v);
  next.add_q(q);
  next.spread(group * ((nq + kR - 1) / kR));
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    const size_t q0 = (b * nq * s.q_heads + hq) * hd;
    float* lh = lse + (b * s.q_heads + hq) * nq;
    for_blocks(0, nq, [&](auto rows, size_t t) {
      next.step();
      forward_block<decltype(rows)::value>(s, t, q + q0, qs, kt, ldk, vp, hdp, sc, ot, out + q0, lh);
    });
  }
}

// Backward of query rows t .. t + R - 1 (of the panel starting at t0): recomputes P from the
// saved log-sum-exp, dS = P (dP - D) scale with dP = dO V^T and D = dO . O, stores both for the
// panel's dK and dV, and writes dQ = dS K.
template <size_t R>
inline void backward_block(const AttentionShape& s, size_t t, size_t t0, const float* qp, const float* gp, const float* oh,
                           const float* lh, const float* kt, const float* vt, size_t ldk, const float* kp, size_t hdp, float* pp,
                           float* dsp, float* ot, float* dqh) {
  const size_t hd = s.head_dim, past = s.kv_len - s.q_len, qs = s.q_heads * hd;
  const size_t n = t + R + past, cols = round_up(n, kW);
  const float* qr = qp + (t - t0) * hdp;
  const float* gr = gp + (t - t0) * hdp;
  float* pr = pp + (t - t0) * ldk;
  float* dr = dsp + (t - t0) * ldk;
  tiles<R, false>(qr, hdp, 1, kt, ldk, hd, cols, pr, ldk);
  tiles<R, false>(gr, hdp, 1, vt, ldk, hd, cols, dr, ldk);
  const vi idx = iota();
  for (size_t r = 0; r < R; ++r) {
    const float L = lh[t + r];
    const float d = dot(gr + r * hdp, oh + (t + r) * qs, hd);
    const int32_t live = static_cast<int32_t>(t + r + past + 1);
    for (size_t j = 0; j < cols; j += kW) {
      const vi seen = (idx + static_cast<int32_t>(j)) < live;
      const vf p = seen ? vexp(load(pr + r * ldk + j) * s.scale - L) : splat(0.0f);
      const vf ds = seen ? p * (load(dr + r * ldk + j) - d) * s.scale : splat(0.0f);
      store(pr + r * ldk + j, p);
      store(dr + r * ldk + j, ds);
    }
  }
  tiles<R, false>(dr, ldk, 1, kp, hdp, n, hdp, ot, hdp);
  for (size_t r = 0; r < R; ++r) std::memcpy(dqh + (t + r) * qs, ot + r * hdp, hd * sizeof(float));
}

inline void backward(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v,
                     const float* out, const float* lse, const float* dout, float* dq, float* dk, float* dv, float* scratch) {
  const size_t hd = s.head_dim, group = s.q_heads / s.kv_heads, nq = s.q_len, nk = s.kv_len, past = nk - nq;
  const size_t ldk = attention_ldk(s), hdp = attention_pad16(hd), panel = attention_panel_rows(s);
  const size_t qs = s.q_heads * hd, ks = s.kv_heads * hd;
  const size_t n16 = attention_pad16(nk);
  float* kt = scratch;            // K^T [hdp][ldk]
  float* vt = kt + hdp * ldk;     // V^T [hdp][ldk]
  float* kp = vt + hdp * ldk;     // K [n16][hdp]
  float* dka = kp + n16 * hdp;    // dK [ldk][hdp] (rows past nk absorb the last tile of keys)
  float* dva = dka + ldk * hdp;   // dV [ldk][hdp], first V [n16][hdp] to transpose
  float* qp = dva + ldk * hdp;    // the panel's Q rows [panel][hdp]
  float* gp = qp + panel * hdp;   // the panel's dO rows [panel][hdp]
  float* pp = gp + panel * hdp;   // the panel's P [panel][ldk]
  float* dsp = pp + panel * ldk;  // the panel's dP, then dS [panel][ldk]
  float* ot = dsp + panel * ldk;  // dQ of a block [kR][hdp]
  const size_t kv0 = (b * nk * s.kv_heads + g) * hd;
  pad_rows(k + kv0, ks, nk, hd, kp, hdp, n16);
  transpose(kp, n16, hdp, kt, ldk);
  pad_rows(v + kv0, ks, nk, hd, dva, hdp, n16);
  transpose(dva, n16, hdp, vt, ldk);
  std::memset(dka, 0, 2 * ldk * hdp * sizeof(float));
  NextTask next(s, b, g);
  next.add_kv(k);
  next.add_kv(v);
  next.add_q(q);
  next.add_q(dout);
  next.add_q(out);
  next.spread(group * ((nq + kR - 1) / kR + (nk + kKeys - 1) / kKeys));
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    const size_t q0 = (b * nq * s.q_heads + hq) * hd;
    const float* lh = lse + (b * s.q_heads + hq) * nq;
    for (size_t t0 = 0; t0 < nq; t0 += panel) {
      const size_t t1 = std::min(nq, t0 + panel);
      pad_rows(q + q0 + t0 * qs, qs, t1 - t0, hd, qp, hdp, t1 - t0);
      pad_rows(dout + q0 + t0 * qs, qs, t1 - t0, hd, gp, hdp, t1 - t0);
      for_blocks(t0, t1, [&](auto rows, size_t t) {
        next.step();
        backward_block<decltype(rows)::value>(s, t, t0, qp, gp, out + q0, lh, kt, vt, ldk, kp, hdp, pp, dsp, ot, dq + q0);
      });
      // dK += dS^T Q and dV += P^T dO, a tile of keys over the panel's rows that see its first
      // key. Those rows' stored scores reach a multiple of kW past that key, so cover the tile;
      // entries past a row's causal limit are exact zeros.
      for (size_t j = 0; j < t1 + past; j += kKeys) {
        next.step();
        const size_t r0 = std::max(t0, j > past ? j - past : 0) - t0, rows = t1 - t0 - r0;
        tiles<kKeys, true>(dsp + r0 * ldk + j, 1, ldk, qp + r0 * hdp, hdp, rows, hdp, dka + j * hdp, hdp);
        tiles<kKeys, true>(pp + r0 * ldk + j, 1, ldk, gp + r0 * hdp, hdp, rows, hdp, dva + j * hdp, hdp);
      }
    }
  }
  for (size_t j = 0; j < nk; ++j) {
    std::memcpy(dk + kv0 + j * ks, dka + j * hdp, hd * sizeof(float));
    std::memcpy(dv + kv0 + j * ks, dva + j * hdp, hd * sizeof(float));
  }
}

// Decode against an f32 or f16 KV cache. The cache element is widened to float as it is loaded.
inline float widen(float x) { return x; }
inline float widen(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0) {
    const float f = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  const uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline vf load_kv(const float* p) { return load(p); }
inline vf load_kv(const uint16_t* p) {
#if defined(__F16C__)
  static_assert(kW == 8, "F16C widens 8 halves at a time");
  __m256 w = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  vf v;
  std::memcpy(&v, &w, sizeof v);
  return v;
#else
  vf v;
  for (size_t i = 0; i < kW; ++i) v[i] = widen(p[i]);
  return v;
#endif
}

// Scores of the group's query heads against every key (each a dot over head_dim in a fixed
// order), a softmax per head, then out = P V / l summed over keys in order: the result of a head
// does not depend on the thread count or on the other heads. Up to four heads of a group share
// each loaded key vector (four independent FMA chains instead of one latency-bound chain), and
// P V keeps a 64-float slice of the output row in registers while the keys stream past.
template <size_t R, class KV>
inline void decode_scores(const float* q, const KV* k, size_t kv_len, size_t stride, size_t hd, float* sc, size_t ld) {
  const size_t full = hd / kW * kW;
  for (size_t j = 0; j < kv_len; ++j) {
    const KV* kj = k + j * stride;
    vf s[R];
    for (size_t r = 0; r < R; ++r) s[r] = vf{};
    size_t i = 0;
    for (; i < full; i += kW) {
      const vf kv = load_kv(kj + i);
      for (size_t r = 0; r < R; ++r) s[r] += load(q + r * hd + i) * kv;
    }
    for (size_t r = 0; r < R; ++r) {
      float t = hsum(s[r]);
      for (size_t x = i; x < hd; ++x) t += q[r * hd + x] * widen(kj[x]);
      sc[r * ld + j] = t;
    }
  }
}

constexpr size_t kDecodeSlice = 8;  // vectors of the output row kept in registers

template <class KV>
inline void decode_values(const float* p, const KV* v, size_t kv_len, size_t stride, size_t hd, float* acc) {
  const size_t full = hd / kW * kW;
  size_t c0 = 0;
  for (; c0 + kDecodeSlice * kW <= full; c0 += kDecodeSlice * kW) {
    vf a[kDecodeSlice];
    for (size_t u = 0; u < kDecodeSlice; ++u) a[u] = vf{};
    for (size_t j = 0; j < kv_len; ++j) {
      const vf pj = splat(p[j]);
      const KV* vj = v + j * stride + c0;
      for (size_t u = 0; u < kDecodeSlice; ++u) a[u] += pj * load_kv(vj + u * kW);
    }
    for (size_t u = 0; u < kDecodeSlice; ++u) store(acc + c0 + u * kW, a[u]);
  }
  for (size_t i = c0; i < hd; ++i) acc[i] = 0.0f;
  for (size_t j = 0; j < kv_len; ++j) {
    const KV* vj = v + j * stride;
    size_t i = c0;
    for (; i < full; i += kW) store(acc + i, load(acc + i) + splat(p[j]) * load_kv(vj + i));
    for (; i < hd; ++i) acc[i] += p[j] * widen(vj[i]);
  }
}

template <class KV>
inline void decode(const float* q, const KV* k, const KV* v, size_t kv_len, size_t q_heads, size_t kv_heads,
                   size_t head_dim, float scale, size_t g, float* out, float* scratch) {
  const size_t group = q_heads / kv_heads, hd = head_dim, stride = kv_heads * hd, ld = attention_pad16(kv_len);
  float* sc = scratch;                 // [group][ld]
  float* acc = scratch + group * ld;   // one head's output, [pad16(hd)]
  const float* qg = q + g * group * hd;
  const KV* kg = k + g * hd;
  size_t r = 0;
  for (; r + 4 <= group; r += 4) decode_scores<4>(qg + r * hd, kg, kv_len, stride, hd, sc + r * ld, ld);
  for (; r < group; ++r) decode_scores<1>(qg + r * hd, kg, kv_len, stride, hd, sc + r * ld, ld);
  for (size_t h = 0; h < group; ++h) {
    float m, l;
    softmax_row(sc + h * ld, ld, kv_len, scale, m, l);
    decode_values(sc + h * ld, v + g * hd, kv_len, stride, hd, acc);
    const float inv = 1.0f / l;
    float* o = out + (g * group + h) * hd;
    for (size_t i = 0; i < hd; ++i) o[i] = acc[i] * inv;
  }
}

inline void decode_f32(const float* q, const float* k, const float* v, size_t kv_len, size_t q_heads, size_t kv_heads,
                       size_t head_dim, float scale, size_t g, float* out, float* scratch) {
  decode(q, k, v, kv_len, q_heads, kv_heads, head_dim, scale, g, out, scratch);
}
inline void decode_f16(const float* q, const uint16_t* k, const uint16_t* v, size_t kv_len, size_t q_heads, size_t kv_heads,
                       size_t head_dim, float scale, size_t g, float* out, float* scratch) {
  decode(q, k, v, kv_len, q_heads, kv_heads, head_dim, scale, g, out, scratch);
}

}  // namespace attention_impl
}  // namespace
}  // namespace bitnet
