// Bindings of family "elementwise": the element-wise maps, RoPE, AdamW, sums of squares and the
// dequantization of ternary codes and int8 activations.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Value Elementwise(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "elementwise(op, a, b, out)", 4);
    const std::string op = args.choice(0, "op", {"add", "sub", "mul", "div", "relu2", "relu2Backward"});
    const ElementwiseOp code = op == "add" ? ElementwiseOp::Add : op == "sub" ? ElementwiseOp::Sub : op == "mul" ? ElementwiseOp::Mul
                               : op == "div" ? ElementwiseOp::Div : op == "relu2" ? ElementwiseOp::Relu2 : ElementwiseOp::Relu2Backward;
    const bool binary = code != ElementwiseOp::Relu2;
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
    backend_of(a).elementwise(code, reinterpret_cast<const float*>(a.data), data_of(b), reinterpret_cast<float*>(out.data), a.length);
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
    backend_of(x).rope(reinterpret_cast<const float*>(x.data), reinterpret_cast<float*>(out.data), static_cast<size_t>(batch * seq),
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
    backend_of(p).adamw_update(reinterpret_cast<float*>(p.data), reinterpret_cast<const float*>(g.data), reinterpret_cast<float*>(m.data),
                        reinterpret_cast<float*>(v.data), p.length, decay, beta1, beta2, step_size, bias2_sqrt, eps);
    return info.Env().Undefined();
  });
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "sumSquares(x)", 1);
    TypedView x = args.typed(0, "x", {napi_float32_array});
    return Napi::Number::New(info.Env(), backend_of(x).sum_squares(reinterpret_cast<const float*>(x.data), x.length));
  });
}

Napi::Value DequantizeActivations(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "dequantizeActivations(q, rows, cols, scales, out)", 5);
    const int64_t rows = args.integer(1, "rows", 0, kMaxDim);
    const int64_t cols = args.integer(2, "cols", 0, kMaxK);
    check_elements(args, rows, cols, "rows", "cols");
    const size_t kp = ternary_padded_k(static_cast<size_t>(cols));
    TypedView q = args.typed(0, "q", {napi_int8_array});
    TypedView scales = args.typed(3, "scales", {napi_float32_array});
    TypedView out = args.typed(4, "out", {napi_float32_array});
    expect_length(args, "q", q, static_cast<uint64_t>(rows) * kp, "rows * cols padded to a multiple of 256");
    expect_length(args, "scales", scales, static_cast<uint64_t>(rows), "rows");
    expect_length(args, "out", out, static_cast<uint64_t>(rows * cols), "rows * cols");
    expect_disjoint(args, "out", out, "q", q);
    expect_disjoint(args, "out", out, "scales", scales);
    check_scales(args, "scales", scales);
    backend_of(q).dequantize_activations(reinterpret_cast<const int8_t*>(q.data), static_cast<size_t>(rows), static_cast<size_t>(cols), kp,
                                         reinterpret_cast<const float*>(scales.data), reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

Napi::Value DequantizeTernary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "dequantizeTernary(codes, scale, out)", 3);
    TypedView codes = args.typed(0, "codes", {napi_int8_array});
    const double scale = args.finite(1, "scale");
    if (std::fabs(scale) > std::numeric_limits<float>::max())
      args.range_error("scale", "a number within float32 range", format_number(scale));
    TypedView out = args.typed(2, "out", {napi_float32_array});
    expect_length(args, "out", out, codes.length, "codes.length");
    expect_disjoint(args, "out", out, "codes", codes);
    backend_of(codes).dequantize_ternary(reinterpret_cast<const int8_t*>(codes.data), codes.length, static_cast<float>(scale),
                                     reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "elementwise", Elementwise, "elementwise");
  define_kernel(env, exports, "rope", Rope, "elementwise");
  define_kernel(env, exports, "adamwUpdate", AdamwUpdate, "elementwise");
  define_kernel(env, exports, "sumSquares", SumSquares, "elementwise");
  define_kernel(env, exports, "dequantizeActivations", DequantizeActivations, "elementwise");
  define_kernel(env, exports, "dequantizeTernary", DequantizeTernary, "elementwise");
}

namespace {
const BindingRegistration kRegistration(register_elementwise);
}  // namespace

}  // namespace binding
}  // namespace bitnet
