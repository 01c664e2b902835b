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
// masked keys: results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/attention/attention.h"

namespace bitnet {
// Internal linkage: each including file gets its own copy compiled with its own ISA flags (an
// inline function shared between them would let the linker keep the AVX-512 copy for all).
namespace {
namespace attention_impl {

// Vectors of 8 floats for AVX2 and AVX-512 alike, 4 at baseline (SSE2, NEON). GCC lowers a
// vector-extension type wider than the registers through the stack (f32x16 in the AVX2 build
// spilled every accumulator), and on this machine (Zen 4, 512-bit operations issued as two
// 256-bit halves) 8-wide tiles measured faster than 16-wide ones: 115 against 90 GFLOP/s.
// A register tile is R rows x C vectors of accumulators; with the C loaded vectors and a
// broadcast it fits 16 registers: kR query rows per block, kC vectors per tile.
#if defined(__AVX2__)
constexpr size_t kW = 8, kR = 4, kC = 3;
#else
constexpr size_t kW = 4, kR = 4, kC = 2;
#endif
static_assert(16 % kW == 0, "scratch rows are padded to 16 floats");
static_assert(kR <= kAttentionBlockRows, "a block's scratch is sized in attention.h");
// Keys per dK/dV tile: a multiple of 4 divides every kW, so a tile never reads past the padded
// scores of its rows (see backward).
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
// returns 0; inputs are clamped at 88 (no inf or NaN from finite input; softmax never exceeds 0).
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
// moves, no arithmetic: exact on every ISA).
inline void transpose_block(const float* src, size_t ss, float* dst, size_t ds) {
#if defined(__AVX2__)
  static_assert(kW == 8, "");
  const vf a0 = load(src), a1 = load(src + ss), a2 = load(src + 2 * ss), a3 = load(src + 3 * ss);
  const vf a4 = load(src + 4 * ss), a5 = load(src + 5 * ss), a6 = load(src + 6 * ss), a7 = load(src + 7 * ss);
  const vi lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
  const vf t0 = __builtin_shuffle(a0, a1, lo), t1 = __builtin_shuffle(a0, a1, hi);
  const vf t2 = __builtin_shuffle(a2, a3, lo), t3 = __builtin_shuffle(a2, a3, hi);
  const vf t4 = __builtin_shuffle(a4, a5, lo), t5 = __builtin_shuffle(a4, a5, hi);
  const vf t6 = __builtin_shuffle(a6, a7, lo), t7 = __builtin_shuffle(a6, a7, hi);
  const vi plo = {0, 1, 8, 9, 4, 5, 12, 13}, phi = {2, 3, 10, 11, 6, 7, 14, 15};
  const vf u0 = __builtin_shuffle(t0, t2, plo), u1 = __builtin_shuffle(t0, t2, phi);
  const vf u2 = __builtin_shuffle(t1, t3, plo), u3 = __builtin_shuffle(t1, t3, phi);
  const vf u4 = __builtin_shuffle(t4, t6, plo), u5 = __builtin_shuffle(t4, t6, phi);
  const vf u6 = __builtin_shuffle(t5, t7, plo), u7 = __builtin_shuffle(t5, t7, phi);
  const vi hlo = {0, 1, 2, 3, 8, 9, 10, 11}, hhi = {4, 5, 6, 7, 12, 13, 14, 15};
  store(dst, __builtin_shuffle(u0, u4, hlo));
  store(dst + ds, __builtin_shuffle(u1, u5, hlo));
  store(dst + 2 * ds, __builtin_shuffle(u2, u6, hlo));
  store(dst + 3 * ds, __builtin_shuffle(u3, u7, hlo));
  store(dst + 4 * ds, __builtin_shuffle(u0, u4, hhi));
  store(dst + 5 * ds, __builtin_shuffle(u1, u5, hhi));
  store(dst + 6 * ds, __builtin_shuffle(u2, u6, hhi));
  store(dst + 7 * ds, __builtin_shuffle(u3, u7, hhi));
#else
  static_assert(kW == 4, "");
  const vf a0 = load(src), a1 = load(src + ss), a2 = load(src + 2 * ss), a3 = load(src + 3 * ss);
  const vi lo = {0, 4, 1, 5}, hi = {2, 6, 3, 7}, plo = {0, 1, 4, 5}, phi = {2, 3, 6, 7};
  const vf t0 = __builtin_shuffle(a0, a1, lo), t1 = __builtin_shuffle(a0, a1, hi);
  const vf t2 = __builtin_shuffle(a2, a3, lo), t3 = __builtin_shuffle(a2, a3, hi);
  store(dst, __builtin_shuffle(t0, t2, plo));
  store(dst + ds, __builtin_shuffle(t0, t2, phi));
  store(dst + 2 * ds, __builtin_shuffle(t1, t3, plo));
  store(dst + 3 * ds, __builtin_shuffle(t1, t3, phi));
#endif
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
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    const size_t q0 = (b * nq * s.q_heads + hq) * hd;
    float* lh = lse + (b * s.q_heads + hq) * nq;
    for_blocks(0, nq, [&](auto rows, size_t t) {
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
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    const size_t q0 = (b * nq * s.q_heads + hq) * hd;
    const float* lh = lse + (b * s.q_heads + hq) * nq;
    for (size_t t0 = 0; t0 < nq; t0 += panel) {
      const size_t t1 = std::min(nq, t0 + panel);
      pad_rows(q + q0 + t0 * qs, qs, t1 - t0, hd, qp, hdp, t1 - t0);
      pad_rows(dout + q0 + t0 * qs, qs, t1 - t0, hd, gp, hdp, t1 - t0);
      for_blocks(t0, t1, [&](auto rows, size_t t) {
        backward_block<decltype(rows)::value>(s, t, t0, qp, gp, out + q0, lh, kt, vt, ldk, kp, hdp, pp, dsp, ot, dq + q0);
      });
      // dK += dS^T Q and dV += P^T dO, a tile of keys over the panel's rows that see its first
      // key. Those rows' stored scores reach a multiple of kW past that key, so cover the tile;
      // entries past a row's causal limit are exact zeros.
      for (size_t j = 0; j < t1 + past; j += kKeys) {
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

}  // namespace attention_impl
}  // namespace
}  // namespace bitnet
