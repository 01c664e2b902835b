// Bindings of family "norm": RMSNorm forward and backward, softmax cross-entropy and the
// sampler's softmax weights.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

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
    backend_of(lse).cross_entropy_forward(c, static_cast<size_t>(rows), reinterpret_cast<double*>(lse.data),
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
    backend_of(lse).cross_entropy_backward(c, static_cast<size_t>(rows), reinterpret_cast<const double*>(lse.data),
                                         reinterpret_cast<const double*>(scale.data), scale.length != 1,
                                         reinterpret_cast<float*>(dx.data));
    return info.Env().Undefined();
  });
}

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
    backend_of(z).softmax_weights(reinterpret_cast<const float*>(z.data), z.length, static_cast<float>(max), static_cast<float>(inv_t),
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
    backend_of(x).rms_norm_forward(reinterpret_cast<const float*>(x.data), data_of(w), static_cast<size_t>(rows),
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
    backend_of(g).rms_norm_backward(reinterpret_cast<const float*>(g.data), reinterpret_cast<const float*>(x.data), data_of(w),
                                    reinterpret_cast<const float*>(rstd.data), static_cast<size_t>(rows), static_cast<size_t>(d),
                                    mutable_data_of(dx), mutable_data_of(dw));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "rmsNormForward", RmsNormForward, "norm");
  define_kernel(env, exports, "rmsNormBackward", RmsNormBackward, "norm");
  define_kernel(env, exports, "crossEntropyForward", CrossEntropyForward, "norm");
  define_kernel(env, exports, "crossEntropyBackward", CrossEntropyBackward, "norm");
  define_kernel(env, exports, "softmaxWeights", SoftmaxWeights, "norm");
}

namespace {
const BindingRegistration kRegistration(register_norm);
}  // namespace

}  // namespace binding
}  // namespace bitnet
