// Bindings of family "attention": causal GQA attention forward, backward and the decode step
// against a KV cache.
#include <cmath>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

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
    backend_of(q).attention_forward(s, reinterpret_cast<const float*>(q.data), reinterpret_cast<const float*>(k.data),
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
    backend_of(q).attention_decode(reinterpret_cast<const float*>(q.data), k.data, v.data, k.type == napi_uint16_array,
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
    backend_of(q).attention_backward(s, reinterpret_cast<const float*>(q.data), reinterpret_cast<const float*>(k.data),
                                     reinterpret_cast<const float*>(v.data), reinterpret_cast<const float*>(out.data),
                                     reinterpret_cast<const float*>(lse.data), reinterpret_cast<const float*>(dout.data),
                                     reinterpret_cast<float*>(dq.data), reinterpret_cast<float*>(dk.data),
                                     reinterpret_cast<float*>(dv.data));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "attentionForward", AttentionForward, "attention");
  define_kernel(env, exports, "attentionDecode", AttentionDecode, "attention");
  define_kernel(env, exports, "attentionBackward", AttentionBackward, "attention");
}

namespace {
const BindingRegistration kRegistration(register_attention);
}  // namespace

}  // namespace binding
}  // namespace bitnet
