// Bindings of family "dense": activation rows times f32/f16/bf16/int8 weight rows (the LM head).
#include <algorithm>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Value DenseMatmul(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "denseMatmul(x, rows, cols, w, format, outFeatures, xScale, wScale, out)", 9);
    const int64_t m = args.integer(1, "rows", 0, kMaxDim);
    const int64_t k = args.integer(2, "cols", 0, kMaxK);
    const std::string format = args.choice(4, "format", {"f32", "f16", "bf16", "int8"});
    const int64_t n = args.integer(5, "outFeatures", 0, kMaxDim);
    check_elements(args, m, k, "rows", "cols");
    check_elements(args, n, k, "outFeatures", "cols");
    check_elements(args, m, n, "rows", "outFeatures");
    const bool int8 = format == "int8";
    const DenseFormat f = format == "f32" ? DenseFormat::F32 : format == "f16" ? DenseFormat::F16 : format == "bf16" ? DenseFormat::Bf16 : DenseFormat::Int8;
    if (int8 && k % 64 != 0) args.range_error("cols", "a multiple of 64 for int8 (rows padded with zeros)", std::to_string(k));
    TypedView x = args.typed(0, "x", {int8 ? napi_int8_array : napi_float32_array});
    TypedView w = args.typed(3, "w", {f == DenseFormat::F32 ? napi_float32_array : int8 ? napi_int8_array : napi_uint16_array});
    TypedView out = args.typed(8, "out", {napi_float32_array});
    expect_length(args, "x", x, static_cast<uint64_t>(m * k), "rows * cols");
    expect_length(args, "w", w, static_cast<uint64_t>(n * k), "outFeatures * cols");
    expect_length(args, "out", out, static_cast<uint64_t>(m * n), "rows * outFeatures");
    expect_disjoint(args, "out", out, "x", x);
    expect_disjoint(args, "out", out, "w", w);
    const float* xs = nullptr;
    const float* ws = nullptr;
    if (int8) {
      TypedView xsv = args.typed(6, "xScale", {napi_float32_array});
      TypedView wsv = args.typed(7, "wScale", {napi_float32_array});
      expect_length(args, "xScale", xsv, static_cast<uint64_t>(m), "rows");
      expect_length(args, "wScale", wsv, static_cast<uint64_t>(n), "outFeatures");
      expect_disjoint(args, "out", out, "xScale", xsv);
      expect_disjoint(args, "out", out, "wScale", wsv);
      check_scales(args, "xScale", xsv);
      check_scales(args, "wScale", wsv);
      xs = reinterpret_cast<const float*>(xsv.data);
      ws = reinterpret_cast<const float*>(wsv.data);
    } else {
      for (size_t i : {size_t(6), size_t(7)}) {
        if (!args.is_null(i)) {
          args.type_error(i == 6 ? "xScale" : "wScale", "null for format '" + format + "' (scales belong to int8)", info[i]);
        }
      }
    }
    if (m == 0 || n == 0) return info.Env().Undefined();
    if (k == 0) {
      std::fill(reinterpret_cast<float*>(out.data), reinterpret_cast<float*>(out.data) + m * n, 0.0f);
      return info.Env().Undefined();
    }
    backend_of(x).dense_matmul(f, x.data, m, k, w.data, n, xs, ws, reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_dense(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "denseMatmul", DenseMatmul, "dense");
}

namespace {
const BindingRegistration kRegistration(register_dense);
}  // namespace

}  // namespace binding
}  // namespace bitnet
