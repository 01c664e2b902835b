#include "binding/args.h"

#include <cmath>
#include <sstream>

namespace bitnet {
namespace binding {

const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
  }
  return "TypedArray";
}

namespace {
std::string format_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  std::ostringstream s;
  s.precision(17);
  s << d;
  return s.str();
}
}  // namespace

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsNumber()) return "number " + format_number(v.As<Napi::Number>().DoubleValue());
  if (v.IsBigInt()) return "a bigint";
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return "string '" + s + "'";
  }
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    return std::string(typed_array_name(t.TypedArrayType())) + "(" + std::to_string(t.ElementLength()) + ")";
  }
  if (v.IsArrayBuffer()) return "ArrayBuffer(" + std::to_string(v.As<Napi::ArrayBuffer>().ByteLength()) + ")";
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "an unsupported value";
}

void throw_type_error(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }
void throw_range_error(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

Args::Args(const Napi::CallbackInfo& info, const char* signature, size_t required)
    : info_(info), fn_(signature) {
  size_t paren = fn_.find('(');
  std::string name = paren == std::string::npos ? fn_ : fn_.substr(0, paren);
  if (info.Length() < required) {
    throw_type_error(info.Env(), fn_ + ": expected " + std::to_string(required) + " argument" +
                                     (required == 1 ? "" : "s") + ", received " + std::to_string(info.Length()));
  }
  fn_ = name;
}

void Args::type_error(const char* name, const std::string& expected, const Napi::Value& got) const {
  throw_type_error(env(), fn_ + ": argument '" + name + "' must be " + expected + ", received " + describe(got));
}

void Args::range_error(const char* name, const std::string& expected, const std::string& got) const {
  throw_range_error(env(), fn_ + ": argument '" + name + "' must be " + expected + ", received " + got);
}

std::string Args::string(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsString()) type_error(name, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

std::string Args::choice(size_t i, const char* name, std::initializer_list<const char*> choices) const {
  std::string s = string(i, name);
  std::string list;
  for (const char* c : choices) {
    if (s == c) return s;
    list += (list.empty() ? "'" : ", '") + std::string(c) + "'";
  }
  range_error(name, "one of " + list, "'" + s + "'");
}

bool Args::boolean(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsBoolean()) type_error(name, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) const {
  Napi::Value v = info_[i];
  if (!v.IsNumber()) type_error(name, "a number", v);
  double d = v.As<Napi::Number>().DoubleValue();
  const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    range_error(name, expected, format_number(d));
  }
  return static_cast<int64_t>(d);
}

TypedView Args::typed(size_t i, const char* name, std::initializer_list<napi_typedarray_type> allowed) const {
  Napi::Value v = info_[i];
  std::string expected;
  size_t k = 0;
  for (napi_typedarray_type t : allowed) {
    expected += (k == 0 ? "" : (k + 1 == allowed.size() ? " or " : ", ")) + std::string(typed_array_name(t));
    ++k;
  }
  expected = "a " + expected;
  if (!v.IsTypedArray()) type_error(name, expected, v);
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  bool ok = false;
  for (napi_typedarray_type a : allowed) ok = ok || a == t.TypedArrayType();
  if (!ok) type_error(name, expected, v);
  TypedView view;
  view.array = t;
  view.type = t.TypedArrayType();
  view.length = t.ElementLength();
  view.elem_size = t.ElementSize();
  Napi::ArrayBuffer buf = t.ArrayBuffer();
  view.data = static_cast<uint8_t*>(buf.Data());
  if (view.data == nullptr && view.length > 0) {
    throw_type_error(env(), fn_ + ": argument '" + name + "' is a view of a detached (disposed) buffer");
  }
  if (view.data != nullptr) view.data += t.ByteOffset();
  return view;
}

std::vector<int64_t> Args::integers(size_t i, const char* name, size_t max_length, int64_t lo, int64_t hi) const {
  Napi::Value v = info_[i];
  if (!v.IsArray()) type_error(name, "an array of integers", v);
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max_length) {
    range_error(name, "an array of at most " + std::to_string(max_length) + " integers",
                "an array of length " + std::to_string(a.Length()));
  }
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    std::string item = std::string(name) + "[" + std::to_string(k) + "]";
    if (!e.IsNumber()) type_error(item.c_str(), "a number", e);
    double d = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
      range_error(item.c_str(), "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
                  format_number(d));
    }
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

Napi::ArrayBuffer Args::array_buffer(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsArrayBuffer()) type_error(name, "an ArrayBuffer", v);
  return v.As<Napi::ArrayBuffer>();
}

}  // namespace binding
}  // namespace bitnet
