// Bindings of the BitNet b1.58 ops: activation/weight quantization, ternary packing and the
// int8 x ternary matrix product. Plain arrays and numbers are read before typed arrays (a getter
// on an array could otherwise free a buffer whose pointer was already taken). Outputs may not
// overlap the inputs or each other: the kernels run on several threads, so an overlap would be a
// data race with silently wrong results.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"
#include "cpu/pack/pack.h"
#include "cpu/quant/quant.h"
#include "cpu/ternary/ternary.h"

namespace bitnet {
namespace binding {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();
// Bounds that keep every int32 accumulation exact and every index in range.
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxK = int64_t(1) << 22;

void check_scales(const Args& args, const char* name, const TypedView& v) {
  const float* s = reinterpret_cast<const float*>(v.data);
  for (size_t i = 0; i < v.length; ++i) {
    if (!(std::isfinite(s[i]) && s[i] > 0.0f)) {
      args.range_error(name, "finite positive scales", std::string(name) + "[" + std::to_string(i) + "] = " + format_number(s[i]));
    }
  }
}

int layout_code(const std::string& layout) { return layout == "tl256" ? 0 : layout == "i2s" ? 1 : 2; }

Napi::Value QuantizeActivations(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "quantizeActivations(x, rows, cols, q, scales, sums)", 6);
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
    const size_t bad = cpu_backend().quantize_activations(reinterpret_cast<const float*>(x.data), rows, cols, kp,
                                                          reinterpret_cast<int8_t*>(q.data),
                                                          reinterpret_cast<float*>(scales.data),
                                                          reinterpret_cast<int32_t*>(sums.data));
    if (bad != kNone) args.range_error("x", "finite values", "a NaN or infinity in row " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

Napi::Value QuantizeWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "quantizeWeights(w, rows, cols, mode, codes, scales)", 6);
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
    const size_t bad = cpu_backend().quantize_weights(reinterpret_cast<const float*>(w.data), rows, cols,
                                                      static_cast<int>(m), reinterpret_cast<int8_t*>(codes.data),
                                                      reinterpret_cast<float*>(scales.data));
    if (bad != kNone) args.range_error("w", "finite values", "a NaN or infinity at element " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

void check_layout_shape(const Args& args, const std::string& layout, int64_t rows, int64_t cols) {
  if (layout == "i2s" && cols % 128 != 0) args.range_error("cols", "a multiple of 128 for layout 'i2s'", std::to_string(cols));
  if (layout == "hf" && rows % 4 != 0) args.range_error("rows", "a multiple of 4 for layout 'hf'", std::to_string(rows));
}

// rows, cols and layout of packTernary / unpackTernary (arguments 1 to 3), validated in order.
struct TernaryShape {
  int64_t rows, cols;
  std::string layout;
  int code;
  uint64_t packed_bytes;
};

TernaryShape ternary_shape(const Args& args) {
  TernaryShape t;
  t.rows = args.integer(1, "rows", 0, kMaxDim);
  t.cols = args.integer(2, "cols", 0, kMaxDim);
  check_elements(args, t.rows, t.cols, "rows", "cols");
  t.layout = args.choice(3, "layout", {"tl256", "i2s", "hf"});
  check_layout_shape(args, t.layout, t.rows, t.cols);
  t.code = layout_code(t.layout);
  t.packed_bytes = packed_ternary_bytes(static_cast<TernaryLayout>(t.code), t.rows, t.cols);
  return t;
}

Napi::Value PackTernary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "packTernary(w, rows, cols, layout, out)", 5);
    const TernaryShape t = ternary_shape(args);
    TypedView w = args.typed(0, "w", {napi_int8_array});
    TypedView out = args.typed(4, "out", {napi_uint8_array});
    expect_length(args, "w", w, static_cast<uint64_t>(t.rows * t.cols), "rows * cols");
    expect_length(args, "out", out, t.packed_bytes, ("packed size for layout " + t.layout).c_str());
    expect_disjoint(args, "out", out, "w", w);
    const size_t bad = cpu_backend().pack_ternary(t.code, reinterpret_cast<const int8_t*>(w.data), t.rows, t.cols, out.data);
    if (bad != kNone) {
      args.range_error("w", "values in {-1, 0, 1}", "w[" + std::to_string(bad) + "] = " +
                                                      std::to_string(reinterpret_cast<const int8_t*>(w.data)[bad]));
    }
    return info.Env().Undefined();
  });
}

Napi::Value UnpackTernary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "unpackTernary(packed, rows, cols, layout, out)", 5);
    const TernaryShape t = ternary_shape(args);
    TypedView packed = args.typed(0, "packed", {napi_uint8_array});
    TypedView out = args.typed(4, "out", {napi_int8_array});
    expect_length(args, "packed", packed, t.packed_bytes, ("packed size for layout " + t.layout).c_str());
    expect_length(args, "out", out, static_cast<uint64_t>(t.rows * t.cols), "rows * cols");
    expect_disjoint(args, "out", out, "packed", packed);
    const size_t bad = cpu_backend().unpack_ternary(t.code, packed.data, t.rows, t.cols, reinterpret_cast<int8_t*>(out.data));
    if (bad != kNone) args.range_error("packed", "2-bit codes 0, 1 or 2", "code 3 for weight " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

// The kernels subtract xSum from exact int32 dots: a sum that is not the row's own would give
// silently wrong results (and could overflow int32).
void check_row_sums(const Args& args, const TypedView& xq, const TypedView& sums, int64_t m, size_t kp) {
  const int8_t* xr = reinterpret_cast<const int8_t*>(xq.data);
  const int32_t* s = reinterpret_cast<const int32_t*>(sums.data);
  for (int64_t i = 0; i < m; ++i) {
    int64_t total = 0;
    for (size_t j = 0; j < kp; ++j) total += xr[static_cast<size_t>(i) * kp + j];
    if (total != s[i]) {
      args.range_error("xSum", "the row sums of xq",
                       "xSum[" + std::to_string(i) + "] = " + std::to_string(s[i]) + " (row " + std::to_string(i) +
                           " of xq sums to " + std::to_string(total) + ")");
    }
  }
}

Napi::Value TernaryMatmul(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "ternaryMatmul(xq, rows, cols, xScale, xSum, w, outFeatures, wScale, out)", 9);
    const int64_t m = args.integer(1, "rows", 0, kMaxDim);
    const int64_t k = args.integer(2, "cols", 0, kMaxK);
    const int64_t n = args.integer(6, "outFeatures", 0, kMaxDim);
    check_elements(args, m, n, "rows", "outFeatures");
    // n * kp <= 2^31 * 2^22 = 2^53 by the bounds above.
    const size_t kp = ternary_padded_k(static_cast<size_t>(k));
    TypedView xq = args.typed(0, "xq", {napi_int8_array});
    TypedView xs = args.typed(3, "xScale", {napi_float32_array});
    TypedView sums = args.typed(4, "xSum", {napi_int32_array});
    TypedView w = args.typed(5, "w", {napi_uint8_array});
    TypedView ws = args.typed(7, "wScale", {napi_float32_array});
    TypedView out = args.typed(8, "out", {napi_float32_array});
    expect_length(args, "xq", xq, static_cast<uint64_t>(m) * kp, "rows * cols padded to a multiple of 256");
    expect_length(args, "xScale", xs, static_cast<uint64_t>(m), "rows");
    expect_length(args, "xSum", sums, static_cast<uint64_t>(m), "rows");
    expect_length(args, "w", w, static_cast<uint64_t>(ternary_padded_n(n)) * (kp / 4),
                  "outFeatures padded to a multiple of 4 * padded cols / 4: tl256 layout");
    if (ws.length != 1 && ws.length != static_cast<size_t>(n)) {
      args.range_error("wScale",
                       n == 1 ? std::string("of length 1 (outFeatures)")
                              : "of length 1 (one scale for all rows of w) or " + std::to_string(n) + " (outFeatures)",
                       "length " + std::to_string(ws.length));
    }
    expect_length(args, "out", out, static_cast<uint64_t>(m * n), "rows * outFeatures");
    expect_disjoint(args, "out", out, "xq", xq);
    expect_disjoint(args, "out", out, "xScale", xs);
    expect_disjoint(args, "out", out, "xSum", sums);
    expect_disjoint(args, "out", out, "w", w);
    expect_disjoint(args, "out", out, "wScale", ws);
    check_scales(args, "xScale", xs);
    check_scales(args, "wScale", ws);
    check_row_sums(args, xq, sums, m, kp);
    if (m == 0 || n == 0) return info.Env().Undefined();
    cpu_backend().ternary_matmul(reinterpret_cast<const int8_t*>(xq.data), m, kp, reinterpret_cast<const float*>(xs.data),
                                 reinterpret_cast<const int32_t*>(sums.data), w.data, n,
                                 reinterpret_cast<const float*>(ws.data), ws.length != 1,
                                 reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

// One weight operand of ternaryMatmulGroup: w{i}, outFeatures{i}, wScale{i}, out{i} at `first`.
struct TernaryOperandArgs {
  TypedView w, ws, out;
  int64_t n = 0;
};

TernaryOperandArgs read_operand(const Args& args, size_t first, int index, int64_t m, size_t kp, const TypedView& xq,
                                const TypedView& xs, const TypedView& sums) {
  const std::string i = std::to_string(index);
  const std::string wn = "w" + i, nn = "outFeatures" + i, sn = "wScale" + i, on = "out" + i;
  TernaryOperandArgs o;
  o.n = args.integer(first + 1, nn.c_str(), 1, kMaxDim);
  check_elements(args, m, o.n, "rows", nn.c_str());
  o.w = args.typed(first, wn.c_str(), {napi_uint8_array});
  o.ws = args.typed(first + 2, sn.c_str(), {napi_float32_array});
  o.out = args.typed(first + 3, on.c_str(), {napi_float32_array});
  expect_length(args, wn.c_str(), o.w, static_cast<uint64_t>(ternary_padded_n(o.n)) * (kp / 4),
                "outFeatures padded to a multiple of 4 * padded cols / 4: tl256 layout");
  if (o.ws.length != 1 && o.ws.length != static_cast<size_t>(o.n)) {
    args.range_error(sn.c_str(), "of length 1 or " + std::to_string(o.n) + " (" + nn + ")", "length " + std::to_string(o.ws.length));
  }
  expect_length(args, on.c_str(), o.out, static_cast<uint64_t>(m * o.n), ("rows * " + nn).c_str());
  for (auto [name, view] : {std::pair<const char*, const TypedView*>{"xq", &xq}, {"xScale", &xs}, {"xSum", &sums},
                            {wn.c_str(), &o.w}, {sn.c_str(), &o.ws}}) {
    expect_disjoint(args, on.c_str(), o.out, name, *view);
  }
  check_scales(args, sn.c_str(), o.ws);
  return o;
}

// Two or three products of the same activations (q/k/v, gate/up) in one call: the threads split
// the tiles of all of them at once, so small matrices (640-row k/v projections) do not each pay a
// hand-off and an uneven split.
Napi::Value TernaryMatmulGroup(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "ternaryMatmulGroup(xq, rows, cols, xScale, xSum, w0, outFeatures0, wScale0, out0, w1, outFeatures1, wScale1, out1, w2, outFeatures2, wScale2, out2)", 17);
    const int64_t m = args.integer(1, "rows", 1, kMaxDim);
    const int64_t k = args.integer(2, "cols", 1, kMaxK);
    const size_t kp = ternary_padded_k(static_cast<size_t>(k));
    TypedView xq = args.typed(0, "xq", {napi_int8_array});
    TypedView xs = args.typed(3, "xScale", {napi_float32_array});
    TypedView sums = args.typed(4, "xSum", {napi_int32_array});
    expect_length(args, "xq", xq, static_cast<uint64_t>(m) * kp, "rows * cols padded to a multiple of 256");
    expect_length(args, "xScale", xs, static_cast<uint64_t>(m), "rows");
    expect_length(args, "xSum", sums, static_cast<uint64_t>(m), "rows");
    check_scales(args, "xScale", xs);
    check_row_sums(args, xq, sums, m, kp);
    std::vector<TernaryOperandArgs> ops;
    ops.push_back(read_operand(args, 5, 0, m, kp, xq, xs, sums));
    ops.push_back(read_operand(args, 9, 1, m, kp, xq, xs, sums));
    const bool third = !(args.is_null(13) && args.is_null(15) && args.is_null(16));
    if (third) ops.push_back(read_operand(args, 13, 2, m, kp, xq, xs, sums));
    else if (args.integer(14, "outFeatures2", 0, 0) != 0) args.range_error("outFeatures2", "0 without a third operand", "nonzero");
    // Outputs are written by the threads at once: no two may overlap.
    for (size_t a = 0; a < ops.size(); ++a)
      for (size_t b = a + 1; b < ops.size(); ++b) {
        const std::string an = "out" + std::to_string(a), bn = "out" + std::to_string(b);
        expect_disjoint(args, bn.c_str(), ops[b].out, an.c_str(), ops[a].out);
        expect_disjoint(args, bn.c_str(), ops[b].out, ("w" + std::to_string(a)).c_str(), ops[a].w);
        expect_disjoint(args, an.c_str(), ops[a].out, ("w" + std::to_string(b)).c_str(), ops[b].w);
        expect_disjoint(args, bn.c_str(), ops[b].out, ("wScale" + std::to_string(a)).c_str(), ops[a].ws);
        expect_disjoint(args, an.c_str(), ops[a].out, ("wScale" + std::to_string(b)).c_str(), ops[b].ws);
      }
    std::vector<TernaryOperand> operands;
    for (const auto& o : ops) {
      operands.push_back({o.w.data, static_cast<size_t>(o.n), reinterpret_cast<const float*>(o.ws.data), o.ws.length != 1,
                          reinterpret_cast<float*>(o.out.data)});
    }
    cpu_backend().ternary_matmul_group(reinterpret_cast<const int8_t*>(xq.data), m, kp, reinterpret_cast<const float*>(xs.data),
                                       reinterpret_cast<const int32_t*>(sums.data), operands.data(), operands.size());
    return info.Env().Undefined();
  });
}

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
    const int code = format == "f32" ? 0 : format == "f16" ? 1 : format == "bf16" ? 2 : 3;
    if (int8 && k % 64 != 0) args.range_error("cols", "a multiple of 64 for int8 (rows padded with zeros)", std::to_string(k));
    TypedView x = args.typed(0, "x", {int8 ? napi_int8_array : napi_float32_array});
    TypedView w = args.typed(3, "w", {code == 0 ? napi_float32_array : code == 3 ? napi_int8_array : napi_uint16_array});
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
    cpu_backend().dense_matmul(code, x.data, m, k, w.data, n, xs, ws, reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
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
    cpu_backend().dequantize_activations(reinterpret_cast<const int8_t*>(q.data), static_cast<size_t>(rows), static_cast<size_t>(cols), kp,
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
    cpu_backend().dequantize_ternary(reinterpret_cast<const int8_t*>(codes.data), codes.length, static_cast<float>(scale),
                                     reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

Napi::Value StreamRead(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "streamRead(data)", 1);
    TypedView data = args.typed(0, "data", {napi_uint8_array});
    if (data.length % 8 != 0) args.range_error("data", "a length that is a multiple of 8", "length " + std::to_string(data.length));
    const uint64_t sum = cpu_backend().stream_read(data.data, data.length);
    // Only the low 32 bits are returned: enough to keep the loads alive.
    return Napi::Number::New(info.Env(), static_cast<double>(sum & 0xffffffffu));
  });
}

Napi::Value Int8DotPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "int8DotPeak(iterations)", 1);
    const int64_t iterations = args.integer(0, "iterations", 1, int64_t{1} << 40);
    return Napi::Number::New(info.Env(), static_cast<double>(cpu_backend().int8_dot_peak(static_cast<uint64_t>(iterations))));
  });
}

}  // namespace

void register_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeActivations", Napi::Function::New(env, QuantizeActivations, "quantizeActivations"));
  exports.Set("quantizeWeights", Napi::Function::New(env, QuantizeWeights, "quantizeWeights"));
  exports.Set("packTernary", Napi::Function::New(env, PackTernary, "packTernary"));
  exports.Set("unpackTernary", Napi::Function::New(env, UnpackTernary, "unpackTernary"));
  exports.Set("ternaryMatmul", Napi::Function::New(env, TernaryMatmul, "ternaryMatmul"));
  exports.Set("ternaryMatmulGroup", Napi::Function::New(env, TernaryMatmulGroup, "ternaryMatmulGroup"));
  exports.Set("denseMatmul", Napi::Function::New(env, DenseMatmul, "denseMatmul"));
  exports.Set("dequantizeTernary", Napi::Function::New(env, DequantizeTernary, "dequantizeTernary"));
  exports.Set("dequantizeActivations", Napi::Function::New(env, DequantizeActivations, "dequantizeActivations"));
  exports.Set("streamRead", Napi::Function::New(env, StreamRead, "streamRead"));
  exports.Set("int8DotPeak", Napi::Function::New(env, Int8DotPeak, "int8DotPeak"));
}

}  // namespace binding
}  // namespace bitnet
