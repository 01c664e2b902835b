// Bindings of family "embedding": the embedding lookup and its gradient. Every id is checked
// against the weight's rows here (a bad id would read or write outside the weight).
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

void check_ids(const Args& args, const TypedView& ids, int64_t rows) {
  const int32_t* id = reinterpret_cast<const int32_t*>(ids.data);
  for (size_t i = 0; i < ids.length; ++i) {
    if (id[i] < 0 || id[i] >= rows) {
      args.range_error("ids", "rows of the weight, in [0, " + std::to_string(rows) + ")", "ids[" + std::to_string(i) + "] = " + std::to_string(id[i]));
    }
  }
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "embeddingForward(weight, rows, cols, ids, out)", 5);
    const int64_t rows = args.integer(1, "rows", 0, kMaxDim);
    const int64_t cols = args.integer(2, "cols", 0, kMaxDim);
    check_elements(args, rows, cols, "rows", "cols");
    TypedView w = args.typed(0, "weight", {napi_float32_array});
    TypedView ids = args.typed(3, "ids", {napi_int32_array});
    TypedView out = args.typed(4, "out", {napi_float32_array});
    expect_length(args, "weight", w, static_cast<uint64_t>(rows * cols), "rows * cols");
    check_elements(args, static_cast<int64_t>(ids.length), cols, "ids.length", "cols");
    expect_length(args, "out", out, static_cast<uint64_t>(ids.length) * static_cast<uint64_t>(cols), "ids.length * cols");
    expect_disjoint(args, "out", out, "weight", w);
    expect_disjoint(args, "out", out, "ids", ids);
    check_ids(args, ids, rows);
    backend_of(w).embedding_forward(reinterpret_cast<const float*>(w.data), static_cast<size_t>(cols), reinterpret_cast<const int32_t*>(ids.data),
                                    ids.length, reinterpret_cast<float*>(out.data));
    return info.Env().Undefined();
  });
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "embeddingBackward(grad, ids, rows, cols, dweight)", 5);
    const int64_t rows = args.integer(2, "rows", 0, kMaxDim);
    const int64_t cols = args.integer(3, "cols", 0, kMaxDim);
    check_elements(args, rows, cols, "rows", "cols");
    TypedView g = args.typed(0, "grad", {napi_float32_array});
    TypedView ids = args.typed(1, "ids", {napi_int32_array});
    TypedView dw = args.typed(4, "dweight", {napi_float32_array});
    check_elements(args, static_cast<int64_t>(ids.length), cols, "ids.length", "cols");
    expect_length(args, "grad", g, static_cast<uint64_t>(ids.length) * static_cast<uint64_t>(cols), "ids.length * cols");
    expect_length(args, "dweight", dw, static_cast<uint64_t>(rows * cols), "rows * cols");
    expect_disjoint(args, "dweight", dw, "grad", g);
    expect_disjoint(args, "dweight", dw, "ids", ids);
    check_ids(args, ids, rows);
    backend_of(g).embedding_backward(reinterpret_cast<const float*>(g.data), static_cast<size_t>(cols), reinterpret_cast<const int32_t*>(ids.data),
                                     ids.length, reinterpret_cast<float*>(dw.data));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_embedding(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "embeddingForward", EmbeddingForward, "embedding");
  define_kernel(env, exports, "embeddingBackward", EmbeddingBackward, "embedding");
}

namespace {
const BindingRegistration kRegistration(register_embedding);
}  // namespace

}  // namespace binding
}  // namespace bitnet
