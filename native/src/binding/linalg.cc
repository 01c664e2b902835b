// Bindings of the fp32 GEMM, causal attention, RMSNorm and the element-wise maps. Matrices are row-major Float32Arrays (any view: the data pointer
// starts at the view), with leading dimensions in elements. Every access the kernel will make
// is checked against the arrays' lengths here, and C may not overlap A or B (threads write C
// while reading A and B).
#include <cmath>
#include <cstdint>
#include <string>
#include <optional>
#include <utility>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

constexpr int64_t kMaxDim = int64_t(1) << 31;

// The smallest length a row-major rows x cols matrix with leading dimension ld needs.
uint64_t span(int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<uint64_t>(rows - 1) * static_cast<uint64_t>(ld) + static_cast<uint64_t>(cols);
}

void check_matrix(const Args& args, const char* name, const char* ld_name, const TypedView& v, int64_t rows, int64_t cols,
                  int64_t ld, const char* shape) {
  if (ld < cols && rows > 1) {
    args.range_error(ld_name, "at least " + std::to_string(cols) + " (the row length of " + name + ", " + shape + ")",
                     std::to_string(ld));
  }
  const uint64_t need = span(rows, cols, ld);
  if (v.length < need) {
    args.range_error(name,
                     "of length at least " + std::to_string(need) + " (" + shape + " with " + ld_name + " " + std::to_string(ld) + ")",
                     "length " + std::to_string(v.length));
  }
}

Napi::Value SgemmWith(const Napi::CallbackInfo& info, bool bf16) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, bf16 ? "sgemmBf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)"
                         : "sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)",
              13);
    const bool ta = args.boolean(0, "transA");
    const bool tb = args.boolean(1, "transB");
    const int64_t m = args.integer(2, "m", 0, kMaxDim);
    const int64_t n = args.integer(3, "n", 0, kMaxDim);
    const int64_t k = args.integer(4, "k", 0, kMaxDim);
    const double alpha = args.finite(5, "alpha");
    const int64_t lda = args.integer(7, "lda", 1, kMaxDim);
    const int64_t ldb = args.integer(9, "ldb", 1, kMaxDim);
    const double beta = args.finite(10, "beta");
    const int64_t ldc = args.integer(12, "ldc", 1, kMaxDim);
    if (std::fabs(alpha) > 3.4028234663852886e38) args.range_error("alpha", "a number within float32 range", format_number(alpha));
    if (std::fabs(beta) > 3.4028234663852886e38) args.range_error("beta", "a number within float32 range", format_number(beta));
    TypedView a = args.typed(6, "a", {napi_float32_array});
    TypedView b = args.typed(8, "b", {napi_float32_array});
    TypedView c = args.typed(11, "c", {napi_float32_array});
    // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), C is m x n.
    if (ta) check_matrix(args, "a", "lda", a, k, m, lda, "k x m, transposed");
    else check_matrix(args, "a", "lda", a, m, k, lda, "m x k");
    if (tb) check_matrix(args, "b", "ldb", b, n, k, ldb, "n x k, transposed");
    else check_matrix(args, "b", "ldb", b, k, n, ldb, "k x n");
    check_matrix(args, "c", "ldc", c, m, n, ldc, "m x n");
    expect_disjoint(args, "c", c, "a", a);
    expect_disjoint(args, "c", c, "b", b);
    cpu_backend().sgemm(ta, tb, static_cast<size_t>(m), static_cast<size_t>(n), static_cast<size_t>(k), static_cast<float>(alpha),
                        reinterpret_cast<const float*>(a.data), static_cast<size_t>(lda), reinterpret_cast<const float*>(b.data),
                        static_cast<size_t>(ldb), static_cast<float>(beta), reinterpret_cast<float*>(c.data),
                        static_cast<size_t>(ldc), bf16);
    return info.Env().Undefined();
  });
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) { return SgemmWith(info, false); }
Napi::Value SgemmBf16(const Napi::CallbackInfo& info) { return SgemmWith(info, true); }

// Reads and checks the shape arguments at `first` .. first + 6 (batch, qLen, kvLen, qHeads,
// kvHeads, headDim, scale).
AttentionShape attention_shape(const Args& args, size_t first) {
  constexpr int64_t kMaxLen = int64_t(1) << 24;
  AttentionShape s{};
  s.batch = static_cast<size_t>(args.integer(first, "batch", 0, kMaxDim));
  s.q_len = static_cast<size_t>(args.integer(first + 1, "qLen", 0, kMaxLen));
  s.kv_len = static_cast<size_t>(args.integer(first + 2, "kvLen", 0, kMaxLen));
  s.q_heads = static_cast<size_t>(args.integer(first + 3, "qHeads", 1, 1 << 16));
  s.kv_heads = static_cast<size_t>(args.integer(first + 4, "kvHeads", 1, 1 << 16));
  s.head_dim = static_cast<size_t>(args.integer(first + 5, "headDim", 1, 1 << 16));
  const double scale = args.finite(first + 6, "scale");
  if (std::fabs(scale) > 3.4028234663852886e38) args.range_error("scale", "a number within float32 range", format_number(scale));
  s.scale = static_cast<float>(scale);
  if (s.kv_len < s.q_len) {
    args.range_error("kvLen", "at least qLen (" + std::to_string(s.q_len) + "): queries attend to the last qLen of kvLen positions",
                     std::to_string(s.kv_len));
  }
  if (s.q_heads % s.kv_heads != 0) {
    args.range_error("qHeads", "a multiple of kvHeads (" + std::to_string(s.kv_heads) + ")", std::to_string(s.q_heads));
  }
  return s;
}

uint64_t q_elements(const AttentionShape& s) { return uint64_t(s.batch) * s.q_len * s.q_heads * s.head_dim; }
uint64_t kv_elements(const AttentionShape& s) { return uint64_t(s.batch) * s.kv_len * s.kv_heads * s.head_dim; }
uint64_t lse_elements(const AttentionShape& s) { return uint64_t(s.batch) * s.q_heads * s.q_len; }

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "attentionForward(q, k, v, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, out, lse)", 12);
    const AttentionShape s = attention_shape(args, 3);
    TypedView q = args.typed(0, "q", {napi_float32_array});
    TypedView k = args.typed(1, "k", {napi_float32_array});
    TypedView v = args.typed(2, "v", {napi_float32_array});
    TypedView out = args.typed(10, "out", {napi_float32_array});
    TypedView lse = args.typed(11, "lse", {napi_float32_array});
    expect_length(args, "q", q, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "k", k, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    expect_length(args, "v", v, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    expect_length(args, "out", out, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "lse", lse, lse_elements(s), "batch * qHeads * qLen");
    for (auto [name, view] : {std::pair<const char*, const TypedView*>{"q", &q}, {"k", &k}, {"v", &v}}) {
      expect_disjoint(args, "out", out, name, *view);
      expect_disjoint(args, "lse", lse, name, *view);
    }
    expect_disjoint(args, "lse", lse, "out", out);
    cpu_backend().attention_forward(s, reinterpret_cast<const float*>(q.data), reinterpret_cast<const float*>(k.data),
                                    reinterpret_cast<const float*>(v.data), reinterpret_cast<float*>(out.data),
                                    reinterpret_cast<float*>(lse.data));
    return info.Env().Undefined();
  });
}

Napi::Value AttentionDecode(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "attentionDecode(q, k, v, kvLen, qHeads, kvHeads, headDim, scale, out)", 9);
    const int64_t kv_len = args.integer(3, "kvLen", 1, int64_t(1) << 24);
    const int64_t q_heads = args.integer(4, "qHeads", 1, 1 << 16);
    const int64_t kv_heads = args.integer(5, "kvHeads", 1, 1 << 16);
    const int64_t hd = args.integer(6, "headDim", 1, 1 << 16);
    const double scale = args.finite(7, "scale");
    if (std::fabs(scale) > 3.4028234663852886e38) args.range_error("scale", "a number within float32 range", format_number(scale));
    if (q_heads % kv_heads != 0) args.range_error("qHeads", "a multiple of kvHeads (" + std::to_string(kv_heads) + ")", std::to_string(q_heads));
    TypedView q = args.typed(0, "q", {napi_float32_array});
    TypedView k = args.typed(1, "k", {napi_float32_array, napi_uint16_array});
    TypedView v = args.typed(2, "v", {k.type});
    TypedView out = args.typed(8, "out", {napi_float32_array});
    const uint64_t kv = static_cast<uint64_t>(kv_len) * static_cast<uint64_t>(kv_heads) * static_cast<uint64_t>(hd);
    expect_length(args, "q", q, static_cast<uint64_t>(q_heads * hd), "qHeads * headDim");
    expect_length(args, "k", k, kv, "kvLen * kvHeads * headDim");
    expect_length(args, "v", v, kv, "kvLen * kvHeads * headDim");
    expect_length(args, "out", out, static_cast<uint64_t>(q_heads * hd), "qHeads * headDim");
    for (auto [name, view] : {std::pair<const char*, const TypedView*>{"q", &q}, {"k", &k}, {"v", &v}}) {
      expect_disjoint(args, "out", out, name, *view);
    }
    cpu_backend().attention_decode(reinterpret_cast<const float*>(q.data), k.data, v.data, k.type == napi_uint16_array,
                                   static_cast<size_t>(kv_len), static_cast<size_t>(q_heads), static_cast<size_t>(kv_heads),
                                   static_cast<size_t>(hd), static_cast<float>(scale), reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "attentionBackward(q, k, v, out, lse, dout, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, dq, dk, dv)", 16);
    const AttentionShape s = attention_shape(args, 6);
    TypedView q = args.typed(0, "q", {napi_float32_array});
    TypedView k = args.typed(1, "k", {napi_float32_array});
    TypedView v = args.typed(2, "v", {napi_float32_array});
    TypedView out = args.typed(3, "out", {napi_float32_array});
    TypedView lse = args.typed(4, "lse", {napi_float32_array});
    TypedView dout = args.typed(5, "dout", {napi_float32_array});
    TypedView dq = args.typed(13, "dq", {napi_float32_array});
    TypedView dk = args.typed(14, "dk", {napi_float32_array});
    TypedView dv = args.typed(15, "dv", {napi_float32_array});
    expect_length(args, "q", q, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "k", k, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    expect_length(args, "v", v, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    expect_length(args, "out", out, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "lse", lse, lse_elements(s), "batch * qHeads * qLen");
    expect_length(args, "dout", dout, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "dq", dq, q_elements(s), "batch * qLen * qHeads * headDim");
    expect_length(args, "dk", dk, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    expect_length(args, "dv", dv, kv_elements(s), "batch * kvLen * kvHeads * headDim");
    const std::pair<const char*, const TypedView*> inputs[] = {{"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}, {"lse", &lse}, {"dout", &dout}};
    for (auto [oname, oview] : {std::pair<const char*, const TypedView*>{"dq", &dq}, {"dk", &dk}, {"dv", &dv}}) {
      for (auto [iname, iview] : inputs) expect_disjoint(args, oname, *oview, iname, *iview);
    }
    expect_disjoint(args, "dk", dk, "dq", dq);
    expect_disjoint(args, "dv", dv, "dq", dq);
    expect_disjoint(args, "dv", dv, "dk", dk);
    cpu_backend().attention_backward(s, reinterpret_cast<const float*>(q.data), reinterpret_cast<const float*>(k.data),
                                     reinterpret_cast<const float*>(v.data), reinterpret_cast<const float*>(out.data),
                                     reinterpret_cast<const float*>(lse.data), reinterpret_cast<const float*>(dout.data),
                                     reinterpret_cast<float*>(dq.data), reinterpret_cast<float*>(dk.data),
                                     reinterpret_cast<float*>(dv.data));
    return info.Env().Undefined();
  });
}

// The shared arguments of crossEntropyForward/Backward: logits, rows, classes, targets,
// ignoreIndex (null or an integer). Every target is checked, so the kernels index safely.
CrossEntropyRows cross_entropy_rows(const Args& args, int64_t* rows_out) {
  const int64_t rows = args.integer(1, "rows", 0, kMaxDim);
  const int64_t classes = args.integer(2, "classes", 1, kMaxDim);
  check_elements(args, rows, classes, "rows", "classes");
  TypedView logits = args.typed(0, "logits", {napi_float32_array});
  expect_length(args, "logits", logits, static_cast<uint64_t>(rows * classes), "rows * classes");
  TypedView targets = args.typed(3, "targets", {napi_int32_array});
  expect_length(args, "targets", targets, static_cast<uint64_t>(rows), "rows");
  const bool has_ignore = !args.is_null(4);
  const int64_t ignore = has_ignore ? args.integer(4, "ignoreIndex", INT32_MIN, INT32_MAX) : 0;
  const int32_t* t = reinterpret_cast<const int32_t*>(targets.data);
  for (int64_t r = 0; r < rows; ++r) {
    if ((t[r] < 0 || t[r] >= classes) && !(has_ignore && t[r] == ignore)) {
      args.range_error("targets", "class indices in [0, " + std::to_string(classes) + ")" + (has_ignore ? " or ignoreIndex" : ""),
                       "targets[" + std::to_string(r) + "] = " + std::to_string(t[r]));
    }
  }
  *rows_out = rows;
  return {reinterpret_cast<const float*>(logits.data), t, static_cast<size_t>(classes), has_ignore, ignore};
}

Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "crossEntropyForward(logits, rows, classes, targets, ignoreIndex, lse, loss)", 7);
    int64_t rows = 0;
    const CrossEntropyRows c = cross_entropy_rows(args, &rows);
    TypedView lse = args.typed(5, "lse", {napi_float64_array});
    TypedView loss = args.typed(6, "loss", {napi_float64_array});
    expect_length(args, "lse", lse, static_cast<uint64_t>(rows), "rows");
    expect_length(args, "loss", loss, static_cast<uint64_t>(rows), "rows");
    expect_disjoint(args, "loss", loss, "lse", lse);
    cpu_backend().cross_entropy_forward(c, static_cast<size_t>(rows), reinterpret_cast<double*>(lse.data),
                                        reinterpret_cast<double*>(loss.data));
    return info.Env().Undefined();
  });
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "crossEntropyBackward(logits, rows, classes, targets, ignoreIndex, lse, scale, dx)", 8);
    int64_t rows = 0;
    const CrossEntropyRows c = cross_entropy_rows(args, &rows);
    TypedView lse = args.typed(5, "lse", {napi_float64_array});
    expect_length(args, "lse", lse, static_cast<uint64_t>(rows), "rows");
    TypedView scale = args.typed(6, "scale", {napi_float64_array});
    if (scale.length != 1 && scale.length != static_cast<uint64_t>(rows)) {
      args.range_error("scale", "of length 1 or " + std::to_string(rows) + " (rows)", "length " + std::to_string(scale.length));
    }
    TypedView dx = args.typed(7, "dx", {napi_float32_array});
    expect_length(args, "dx", dx, static_cast<uint64_t>(rows) * c.classes, "rows * classes");
    TypedView logits = args.typed(0, "logits", {napi_float32_array});
    expect_disjoint(args, "dx", dx, "logits", logits);
    cpu_backend().cross_entropy_backward(c, static_cast<size_t>(rows), reinterpret_cast<const double*>(lse.data),
                                         reinterpret_cast<const double*>(scale.data), scale.length != 1,
                                         reinterpret_cast<float*>(dx.data));
    return info.Env().Undefined();
  });
}

// An optional Float32Array argument: null, or a view of exactly `length` elements.
std::optional<TypedView> optional_f32(const Args& args, size_t i, const char* name, uint64_t length, const char* why) {
  if (args.is_null(i)) return std::nullopt;
  TypedView v = args.typed(i, name, {napi_float32_array});
  expect_length(args, name, v, length, why);
  return v;
}

const float* data_of(const std::optional<TypedView>& v) { return v ? reinterpret_cast<const float*>(v->data) : nullptr; }
float* mutable_data_of(const std::optional<TypedView>& v) { return v ? reinterpret_cast<float*>(v->data) : nullptr; }

Napi::Value SoftmaxWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "softmaxWeights(z, max, invTemperature, out)", 4);
    const double max = args.finite(1, "max");
    const double inv_t = args.finite(2, "invTemperature");
    if (std::fabs(max) > 3.4028234663852886e38) args.range_error("max", "a number within float32 range", format_number(max));
    if (!(inv_t > 0) || inv_t > 3.4028234663852886e38) args.range_error("invTemperature", "a positive number within float32 range", format_number(inv_t));
    TypedView z = args.typed(0, "z", {napi_float32_array});
    TypedView out = args.typed(3, "out", {napi_float32_array});
    expect_length(args, "out", out, z.length, "z.length");
    expect_disjoint(args, "out", out, "z", z);
    if (z.length == 0) return info.Env().Undefined();
    cpu_backend().softmax_weights(reinterpret_cast<const float*>(z.data), z.length, static_cast<float>(max), static_cast<float>(inv_t),
                                  reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "rmsNormForward(x, w, rows, d, eps, out, rstd)", 7);
    const int64_t rows = args.integer(2, "rows", 0, kMaxDim);
    const int64_t d = args.integer(3, "d", 1, kMaxDim);
    const double eps = args.finite(4, "eps");
    if (!(eps > 0 && eps < 3.4e38)) args.range_error("eps", "a positive float32 number", format_number(eps));
    check_elements(args, rows, d, "rows", "d");
    TypedView x = args.typed(0, "x", {napi_float32_array});
    expect_length(args, "x", x, static_cast<uint64_t>(rows * d), "rows * d");
    const std::optional<TypedView> w = optional_f32(args, 1, "w", static_cast<uint64_t>(d), "d");
    TypedView out = args.typed(5, "out", {napi_float32_array});
    TypedView rstd = args.typed(6, "rstd", {napi_float32_array});
    expect_length(args, "out", out, static_cast<uint64_t>(rows * d), "rows * d");
    expect_length(args, "rstd", rstd, static_cast<uint64_t>(rows), "rows");
    expect_disjoint(args, "out", out, "x", x);
    if (w) expect_disjoint(args, "out", out, "w", *w);
    expect_disjoint(args, "rstd", rstd, "x", x);
    expect_disjoint(args, "rstd", rstd, "out", out);
    if (w) expect_disjoint(args, "rstd", rstd, "w", *w);
    cpu_backend().rms_norm_forward(reinterpret_cast<const float*>(x.data), data_of(w), static_cast<size_t>(rows),
                                   static_cast<size_t>(d), static_cast<float>(eps), reinterpret_cast<float*>(out.data),
                                   reinterpret_cast<float*>(rstd.data));
    return info.Env().Undefined();
  });
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "rmsNormBackward(g, x, w, rstd, rows, d, dx, dw)", 8);
    const int64_t rows = args.integer(4, "rows", 0, kMaxDim);
    const int64_t d = args.integer(5, "d", 1, kMaxDim);
    check_elements(args, rows, d, "rows", "d");
    const uint64_t n = static_cast<uint64_t>(rows * d);
    TypedView g = args.typed(0, "g", {napi_float32_array});
    TypedView x = args.typed(1, "x", {napi_float32_array});
    expect_length(args, "g", g, n, "rows * d");
    expect_length(args, "x", x, n, "rows * d");
    const std::optional<TypedView> w = optional_f32(args, 2, "w", static_cast<uint64_t>(d), "d");
    TypedView rstd = args.typed(3, "rstd", {napi_float32_array});
    expect_length(args, "rstd", rstd, static_cast<uint64_t>(rows), "rows");
    const std::optional<TypedView> dx = optional_f32(args, 6, "dx", n, "rows * d");
    const std::optional<TypedView> dw = optional_f32(args, 7, "dw", static_cast<uint64_t>(d), "d");
    const std::pair<const char*, const TypedView*> inputs[] = {{"g", &g}, {"x", &x}, {"rstd", &rstd}};
    for (auto [oname, out] : {std::pair<const char*, const std::optional<TypedView>*>{"dx", &dx}, {"dw", &dw}}) {
      if (!*out) continue;
      for (auto [iname, in] : inputs) expect_disjoint(args, oname, **out, iname, *in);
      if (w) expect_disjoint(args, oname, **out, "w", *w);
    }
    if (dx && dw) expect_disjoint(args, "dw", *dw, "dx", *dx);
    cpu_backend().rms_norm_backward(reinterpret_cast<const float*>(g.data), reinterpret_cast<const float*>(x.data), data_of(w),
                                    reinterpret_cast<const float*>(rstd.data), static_cast<size_t>(rows), static_cast<size_t>(d),
                                    mutable_data_of(dx), mutable_data_of(dw));
    return info.Env().Undefined();
  });
}

Napi::Value Elementwise(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "elementwise(op, a, b, out)", 4);
    const std::string op = args.choice(0, "op", {"add", "sub", "mul", "div", "relu2", "relu2Backward"});
    const int code = op == "add" ? 0 : op == "sub" ? 1 : op == "mul" ? 2 : op == "div" ? 3 : op == "relu2" ? 4 : 5;
    const bool binary = code != 4;
    TypedView a = args.typed(1, "a", {napi_float32_array});
    std::optional<TypedView> b;
    if (binary) {
      b = args.typed(2, "b", {napi_float32_array});
      expect_length(args, "b", *b, a.length, "the length of a");
    } else if (!args.is_null(2)) {
      args.type_error("b", "null (" + op + " reads only a)", info[2]);
    }
    TypedView out = args.typed(3, "out", {napi_float32_array});
    expect_length(args, "out", out, a.length, "the length of a");
    // out may be a itself (in place) but must not partly overlap an input.
    if (out.data != a.data) expect_disjoint(args, "out", out, "a", a);
    if (b && out.data != b->data) expect_disjoint(args, "out", out, "b", *b);
    cpu_backend().elementwise(code, reinterpret_cast<const float*>(a.data), data_of(b), reinterpret_cast<float*>(out.data), a.length);
    return info.Env().Undefined();
  });
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "rope(x, out, batch, seq, heads, headDim, cos, sin, offset, sign)", 10);
    const int64_t batch = args.integer(2, "batch", 0, kMaxDim);
    const int64_t seq = args.integer(3, "seq", 0, int64_t(1) << 24);
    const int64_t heads = args.integer(4, "heads", 1, 1 << 16);
    const int64_t head_dim = args.integer(5, "headDim", 2, 1 << 16);
    if (head_dim % 2 != 0) args.range_error("headDim", "an even number", std::to_string(head_dim));
    const int64_t offset = args.integer(8, "offset", 0, int64_t(1) << 24);
    const double sign = args.finite(9, "sign");
    if (sign != 1.0 && sign != -1.0) args.range_error("sign", "1 (forward) or -1 (backward)", format_number(sign));
    check_elements(args, batch * seq, heads * head_dim, "batch * seq", "heads * headDim");
    const uint64_t n = static_cast<uint64_t>(batch * seq * heads * head_dim);
    TypedView x = args.typed(0, "x", {napi_float32_array});
    TypedView out = args.typed(1, "out", {napi_float32_array});
    TypedView cos = args.typed(6, "cos", {napi_float32_array});
    TypedView sin = args.typed(7, "sin", {napi_float32_array});
    expect_length(args, "x", x, n, "batch * seq * heads * headDim");
    expect_length(args, "out", out, n, "batch * seq * heads * headDim");
    const uint64_t table = static_cast<uint64_t>(offset + seq) * static_cast<uint64_t>(head_dim / 2);
    if (cos.length < table) {
      args.range_error("cos", "of length at least " + std::to_string(table) + " ((offset + seq) * headDim / 2)", "length " + std::to_string(cos.length));
    }
    expect_length(args, "sin", sin, cos.length, "the length of cos");
    expect_disjoint(args, "out", out, "x", x);
    expect_disjoint(args, "out", out, "cos", cos);
    expect_disjoint(args, "out", out, "sin", sin);
    cpu_backend().rope(reinterpret_cast<const float*>(x.data), reinterpret_cast<float*>(out.data), static_cast<size_t>(batch * seq),
                       static_cast<size_t>(seq), static_cast<size_t>(heads), static_cast<size_t>(head_dim),
                       reinterpret_cast<const float*>(cos.data), reinterpret_cast<const float*>(sin.data), static_cast<size_t>(offset),
                       static_cast<float>(sign));
    return info.Env().Undefined();
  });
}

Napi::Value AdamwUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "adamwUpdate(p, g, m, v, decay, beta1, beta2, stepSize, bias2Sqrt, eps)", 10);
    const double decay = args.finite(4, "decay");
    const double beta1 = args.finite(5, "beta1");
    const double beta2 = args.finite(6, "beta2");
    const double step_size = args.finite(7, "stepSize");
    const double bias2_sqrt = args.finite(8, "bias2Sqrt");
    const double eps = args.finite(9, "eps");
    if (!(beta1 >= 0 && beta1 < 1)) args.range_error("beta1", "a number in [0, 1)", format_number(beta1));
    if (!(beta2 >= 0 && beta2 < 1)) args.range_error("beta2", "a number in [0, 1)", format_number(beta2));
    if (!(bias2_sqrt > 0)) args.range_error("bias2Sqrt", "a number > 0", format_number(bias2_sqrt));
    if (!(eps > 0)) args.range_error("eps", "a number > 0", format_number(eps));
    TypedView p = args.typed(0, "p", {napi_float32_array});
    TypedView g = args.typed(1, "g", {napi_float32_array});
    TypedView m = args.typed(2, "m", {napi_float32_array});
    TypedView v = args.typed(3, "v", {napi_float32_array});
    expect_length(args, "g", g, p.length, "the length of p");
    expect_length(args, "m", m, p.length, "the length of p");
    expect_length(args, "v", v, p.length, "the length of p");
    expect_disjoint(args, "p", p, "g", g);
    expect_disjoint(args, "m", m, "p", p);
    expect_disjoint(args, "m", m, "g", g);
    expect_disjoint(args, "v", v, "p", p);
    expect_disjoint(args, "v", v, "g", g);
    expect_disjoint(args, "v", v, "m", m);
    cpu_backend().adamw(reinterpret_cast<float*>(p.data), reinterpret_cast<const float*>(g.data), reinterpret_cast<float*>(m.data),
                        reinterpret_cast<float*>(v.data), p.length, decay, beta1, beta2, step_size, bias2_sqrt, eps);
    return info.Env().Undefined();
  });
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "sumSquares(x)", 1);
    TypedView x = args.typed(0, "x", {napi_float32_array});
    return Napi::Number::New(info.Env(), cpu_backend().sum_squares(reinterpret_cast<const float*>(x.data), x.length));
  });
}

}  // namespace

void register_linalg(Napi::Env env, Napi::Object exports) {
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
  exports.Set("adamwUpdate", Napi::Function::New(env, AdamwUpdate, "adamwUpdate"));
  exports.Set("rope", Napi::Function::New(env, Rope, "rope"));
  exports.Set("elementwise", Napi::Function::New(env, Elementwise, "elementwise"));
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward, "crossEntropyForward"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
  exports.Set("softmaxWeights", Napi::Function::New(env, SoftmaxWeights, "softmaxWeights"));
  exports.Set("rmsNormForward", Napi::Function::New(env, RmsNormForward, "rmsNormForward"));
  exports.Set("rmsNormBackward", Napi::Function::New(env, RmsNormBackward, "rmsNormBackward"));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("sgemmBf16", Napi::Function::New(env, SgemmBf16, "sgemmBf16"));
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward, "attentionForward"));
  exports.Set("attentionDecode", Napi::Function::New(env, AttentionDecode, "attentionDecode"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace binding
}  // namespace bitnet
