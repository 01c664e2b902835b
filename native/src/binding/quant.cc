// Bindings of family "quant": int8 activation quantization and absmean ternary weight
// quantization. Plain arrays and numbers are read before typed arrays (a getter on an array could
// otherwise free a buffer whose pointer was already taken). Outputs may not overlap the inputs or
// each other: the kernels run on several threads, so an overlap would be a data race.
#include <cmath>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Value QuantizeActivations(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "quantizeActivationsInt8(x, rows, cols, q, scales, sums)", 6);
    const int64_t rows = args.integer(1, "rows", 0, kMaxDim);
    const int64_t cols = args.integer(2, "cols", 0, kMaxK);
    check_elements(args, rows, cols, "rows", "cols");
    const size_t kp = ternary_padded_k(static_cast<size_t>(cols));
    TypedView x = args.typed(0, "x", {napi_float32_array});
    TypedView q = args.typed(3, "q", {napi_int8_array});
    TypedView scales = args.typed(4, "scales", {napi_float32_array});
    TypedView sums = args.typed(5, "sums", {napi_int32_array});
    expect_length(args, "x", x, static_cast<uint64_t>(rows * cols), "rows * cols");
    expect_length(args, "q", q, static_cast<uint64_t>(rows) * kp, "rows * cols padded to a multiple of 256");
    expect_length(args, "scales", scales, static_cast<uint64_t>(rows), "rows");
    expect_length(args, "sums", sums, static_cast<uint64_t>(rows), "rows");
    expect_disjoint(args, "q", q, "x", x);
    expect_disjoint(args, "scales", scales, "x", x);
    expect_disjoint(args, "scales", scales, "q", q);
    expect_disjoint(args, "sums", sums, "x", x);
    expect_disjoint(args, "sums", sums, "q", q);
    expect_disjoint(args, "sums", sums, "scales", scales);
    const size_t bad = backend_of(x).quantize_activations_int8(reinterpret_cast<const float*>(x.data), rows, cols, kp,
                                                          reinterpret_cast<int8_t*>(q.data),
                                                          reinterpret_cast<float*>(scales.data),
                                                          reinterpret_cast<int32_t*>(sums.data));
    if (bad != kNone) args.range_error("x", "finite values", "a NaN or infinity in row " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

Napi::Value QuantizeWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "quantizeWeightsTernary(w, rows, cols, mode, codes, scales)", 6);
    const int64_t rows = args.integer(1, "rows", 0, kMaxDim);
    const int64_t cols = args.integer(2, "cols", 0, kMaxDim);
    check_elements(args, rows, cols, "rows", "cols");
    const std::string mode = args.choice(3, "mode", {"tensor", "channel", "group128"});
    const WeightScaleMode m = mode == "tensor" ? WeightScaleMode::Tensor
                              : mode == "channel" ? WeightScaleMode::Channel
                                                  : WeightScaleMode::Group128;
    TypedView w = args.typed(0, "w", {napi_float32_array});
    TypedView codes = args.typed(4, "codes", {napi_int8_array});
    TypedView scales = args.typed(5, "scales", {napi_float32_array});
    expect_length(args, "w", w, static_cast<uint64_t>(rows * cols), "rows * cols");
    expect_length(args, "codes", codes, static_cast<uint64_t>(rows * cols), "rows * cols");
    expect_length(args, "scales", scales, weight_scale_count(m, rows, cols),
                  m == WeightScaleMode::Tensor    ? "one scale for the tensor"
                  : m == WeightScaleMode::Channel ? "one scale per row"
                                                  : "one scale per 128-weight group of each row");
    expect_disjoint(args, "codes", codes, "w", w);
    expect_disjoint(args, "scales", scales, "w", w);
    expect_disjoint(args, "scales", scales, "codes", codes);
    const size_t bad = backend_of(w).quantize_weights_ternary(reinterpret_cast<const float*>(w.data), rows, cols,
                                                      m, reinterpret_cast<int8_t*>(codes.data),
                                                      reinterpret_cast<float*>(scales.data));
    if (bad != kNone) args.range_error("w", "finite values", "a NaN or infinity at element " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_quant(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "quantizeActivationsInt8", QuantizeActivations, "quant");
  define_kernel(env, exports, "quantizeWeightsTernary", QuantizeWeights, "quant");
}

namespace {
const BindingRegistration kRegistration(register_quant);
}  // namespace

}  // namespace binding
}  // namespace bitnet
