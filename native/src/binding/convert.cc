// Bindings of family "convert": f32 <-> f16/bf16.
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

bool overlaps(const uint8_t* a, size_t a_bytes, const uint8_t* b, size_t b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && a < b + b_bytes && b < a + a_bytes;
}

Napi::Value Convert(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "convert(src, srcDtype, dst, dstDtype)", 4);
    const std::string from = args.choice(1, "srcDtype", {"f32", "f16", "bf16"});
    const std::string to = args.choice(3, "dstDtype", {"f32", "f16", "bf16"});
    if ((from == "f32") == (to == "f32")) {
      args.range_error("dstDtype", from == "f32" ? "'f16' or 'bf16' when srcDtype is 'f32'" : "'f32' when srcDtype is '" + from + "'",
                       "'" + to + "'");
    }
    TypedView src = args.typed(0, "src", {from == "f32" ? napi_float32_array : napi_uint16_array});
    TypedView dst = args.typed(2, "dst", {to == "f32" ? napi_float32_array : napi_uint16_array});
    if (dst.length != src.length) {
      args.range_error("dst", "of length " + std::to_string(src.length) + " (the length of src)",
                       "length " + std::to_string(dst.length));
    }
    if (overlaps(src.data, src.length * src.elem_size, dst.data, dst.length * dst.elem_size)) {
      args.range_error("dst", "memory that does not overlap src", "an overlapping view");
    }
    DType f, t;
    parse_dtype(from, &f);
    parse_dtype(to, &t);
    backend_of(src).convert(f, src.data, t, dst.data, src.length);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_convert(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "convert", Convert, "convert");
}

namespace {
const BindingRegistration kRegistration(register_convert);
}  // namespace

}  // namespace binding
}  // namespace bitnet
