// The attention kernels, written once as plain loops over contiguous head_dim vectors and
// compiled per ISA (ref.cc at baseline, avx2.cc, avx512.cc with their flags): the compiler
// vectorises the dot and axpy loops. Included only by those files.
#pragma once
#include <cmath>
#include <cstring>

#include "cpu/attention/attention.h"

namespace bitnet {
// Internal linkage: each including file gets its own copy compiled with its own ISA flags (an
// inline function shared between them would let the linker keep the AVX-512 copy for all).
namespace {
namespace attention_impl {

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

inline void axpy(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

inline const float* row(const float* base, const AttentionShape& s, size_t b, size_t t, size_t len, size_t heads, size_t h) {
  return base + ((b * len + t) * heads + h) * s.head_dim;
}
inline float* row(float* base, const AttentionShape& s, size_t b, size_t t, size_t len, size_t heads, size_t h) {
  return base + ((b * len + t) * heads + h) * s.head_dim;
}

inline void forward(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v, float* out,
                    float* lse, float* scratch) {
  const size_t hd = s.head_dim, group = s.q_heads / s.kv_heads, past = s.kv_len - s.q_len;
  float* p = scratch;
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    for (size_t t = 0; t < s.q_len; ++t) {
      const float* qr = row(q, s, b, t, s.q_len, s.q_heads, hq);
      const size_t n = t + past + 1;
      float m = -INFINITY;
      for (size_t j = 0; j < n; ++j) {
        p[j] = s.scale * dot(qr, row(k, s, b, j, s.kv_len, s.kv_heads, g), hd);
        m = p[j] > m ? p[j] : m;
      }
      float l = 0;
      for (size_t j = 0; j < n; ++j) {
        p[j] = std::exp(p[j] - m);
        l += p[j];
      }
      float* o = row(out, s, b, t, s.q_len, s.q_heads, hq);
      std::memset(o, 0, hd * sizeof(float));
      const float inv = 1.0f / l;
      for (size_t j = 0; j < n; ++j) axpy(p[j] * inv, row(v, s, b, j, s.kv_len, s.kv_heads, g), o, hd);
      lse[(b * s.q_heads + hq) * s.q_len + t] = m + std::log(l);
    }
  }
}

inline void backward(const AttentionShape& s, size_t b, size_t g, const float* q, const float* k, const float* v,
                     const float* out, const float* lse, const float* dout, float* dq, float* dk, float* dv, float* scratch) {
  const size_t hd = s.head_dim, group = s.q_heads / s.kv_heads, past = s.kv_len - s.q_len;
  float* p = scratch;
  float* ds = scratch + s.kv_len;
  for (size_t j = 0; j < s.kv_len; ++j) {
    std::memset(row(dk, s, b, j, s.kv_len, s.kv_heads, g), 0, hd * sizeof(float));
    std::memset(row(dv, s, b, j, s.kv_len, s.kv_heads, g), 0, hd * sizeof(float));
  }
  for (size_t hq = g * group; hq < (g + 1) * group; ++hq) {
    for (size_t t = 0; t < s.q_len; ++t) {
      const float* qr = row(q, s, b, t, s.q_len, s.q_heads, hq);
      const float* gr = row(dout, s, b, t, s.q_len, s.q_heads, hq);
      const size_t n = t + past + 1;
      const float L = lse[(b * s.q_heads + hq) * s.q_len + t];
      // D = dO . O = sum_j p_j dP_j: the softmax backward's row term.
      const float d = dot(gr, row(out, s, b, t, s.q_len, s.q_heads, hq), hd);
      for (size_t j = 0; j < n; ++j) {
        p[j] = std::exp(s.scale * dot(qr, row(k, s, b, j, s.kv_len, s.kv_heads, g), hd) - L);
        const float dp = dot(gr, row(v, s, b, j, s.kv_len, s.kv_heads, g), hd);
        ds[j] = p[j] * (dp - d) * s.scale;
      }
      float* dqr = row(dq, s, b, t, s.q_len, s.q_heads, hq);
      std::memset(dqr, 0, hd * sizeof(float));
      for (size_t j = 0; j < n; ++j) {
        axpy(ds[j], row(k, s, b, j, s.kv_len, s.kv_heads, g), dqr, hd);
        axpy(ds[j], qr, row(dk, s, b, j, s.kv_len, s.kv_heads, g), hd);
        axpy(p[j], gr, row(dv, s, b, j, s.kv_len, s.kv_heads, g), hd);
      }
    }
  }
}

}  // namespace attention_impl
}  // namespace
}  // namespace bitnet
