// Bindings of family "ternary": int8 activations times tl256 ternary weights, one matrix or a
// group of two or three sharing the activations.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

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
    backend_of(xq).ternary_matmul(reinterpret_cast<const int8_t*>(xq.data), m, kp, reinterpret_cast<const float*>(xs.data),
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
    backend_of(xq).ternary_matmul_group(reinterpret_cast<const int8_t*>(xq.data), m, kp, reinterpret_cast<const float*>(xs.data),
                                       reinterpret_cast<const int32_t*>(sums.data), operands.data(), operands.size());
    return info.Env().Undefined();
  });
}

}  // namespace

void register_ternary(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "ternaryMatmul", TernaryMatmul, "ternary");
  define_kernel(env, exports, "ternaryMatmulGroup", TernaryMatmulGroup, "ternary");
}

namespace {
const BindingRegistration kRegistration(register_ternary);
}  // namespace

}  // namespace binding
}  // namespace bitnet
