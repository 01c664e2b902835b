// Bindings of family "pack": ternary codes to and from the 2-bit layouts (tl256, I2_S, Hugging Face).
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

TernaryLayout layout_code(const std::string& layout) { return layout == "tl256" ? TernaryLayout::Tl256 : layout == "i2s" ? TernaryLayout::I2s : TernaryLayout::Hf; }

void check_layout_shape(const Args& args, const std::string& layout, int64_t rows, int64_t cols) {
  if (layout == "i2s" && cols % 128 != 0) args.range_error("cols", "a multiple of 128 for layout 'i2s'", std::to_string(cols));
  if (layout == "hf" && rows % 4 != 0) args.range_error("rows", "a multiple of 4 for layout 'hf'", std::to_string(rows));
}

// rows, cols and layout of packTernary / unpackTernary (arguments 1 to 3), validated in order.
struct TernaryShape {
  int64_t rows, cols;
  std::string layout;
  TernaryLayout code;
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
  t.packed_bytes = packed_ternary_bytes(t.code, t.rows, t.cols);
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
    const size_t bad = backend_of(w).pack_ternary(t.code, reinterpret_cast<const int8_t*>(w.data), t.rows, t.cols, out.data);
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
    const size_t bad = backend_of(packed).unpack_ternary(t.code, packed.data, t.rows, t.cols, reinterpret_cast<int8_t*>(out.data));
    if (bad != kNone) args.range_error("packed", "2-bit codes 0, 1 or 2", "code 3 for weight " + std::to_string(bad));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_pack(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "packTernary", PackTernary, "pack");
  define_kernel(env, exports, "unpackTernary", UnpackTernary, "pack");
}

namespace {
const BindingRegistration kRegistration(register_pack);
}  // namespace

}  // namespace binding
}  // namespace bitnet
