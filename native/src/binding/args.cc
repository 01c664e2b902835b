#include "binding/args.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

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
    default: break;  // newer kinds (Float16Array) are not accepted by any binding
  }
  return "TypedArray";
}

namespace {

size_t typed_array_element_size(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
    default: break;
  }
  return 1;
}

// The ArrayBuffer or SharedArrayBuffer behind a typed array or DataView (nullptr otherwise).
napi_value backing_buffer(napi_env env, napi_value v) {
  bool is = false;
  napi_value buffer = nullptr;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    if (napi_get_typedarray_info(env, v, nullptr, nullptr, nullptr, &buffer, nullptr) != napi_ok) return nullptr;
    return buffer;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, nullptr, nullptr, &buffer, nullptr) != napi_ok) return nullptr;
    return buffer;
  }
  return nullptr;
}

bool buffer_detached(napi_env env, napi_value buffer) {
  bool is_ab = false, detached = false;
  if (buffer == nullptr || napi_is_arraybuffer(env, buffer, &is_ab) != napi_ok || !is_ab) return false;  // SAB
  return napi_is_detached_arraybuffer(env, buffer, &detached) == napi_ok && detached;
}

// The constructor name of an object ("Map", "Tensor", "SharedArrayBuffer"), or "" when it has
// none or looking it up throws (the exception is swallowed: describe() must never throw).
std::string constructor_name(napi_env env, napi_value obj) {
  napi_value ctor = nullptr, name = nullptr;
  napi_valuetype type;
  std::string out;
  if (napi_get_named_property(env, obj, "constructor", &ctor) == napi_ok && napi_typeof(env, ctor, &type) == napi_ok &&
      type == napi_function && napi_get_named_property(env, ctor, "name", &name) == napi_ok &&
      napi_typeof(env, name, &type) == napi_ok && type == napi_string) {
    char buf[64];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, name, buf, sizeof buf, &len) == napi_ok) out.assign(buf, len);
  }
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
    return "";
  }
  return out;
}

}  // namespace

std::string with_article(const std::string& noun) {
  // "an Int8Array", "an ArrayBuffer", but "a Uint8Array" (said "you-int").
  const bool vowel = !noun.empty() && std::string("AEIOaeio").find(noun[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

std::string format_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  // Integers print in full like JS does below 1e21 ("9007199254740994", not "9.007...e+15").
  if (std::floor(d) == d && std::fabs(d) < 1e21) {
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

bool is_detached(const Napi::Value& v) {
  napi_env env = v.Env();
  if (v.IsArrayBuffer()) return buffer_detached(env, v);
  return buffer_detached(env, backing_buffer(env, v));
}

std::string describe(const Napi::Value& v) {
  napi_env env = v.Env();
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsNumber()) return "number " + format_number(v.As<Napi::Number>().DoubleValue());
  if (v.IsBigInt()) return "a bigint";
  if (v.IsSymbol()) return "a symbol";
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 40) + "...";
    return "string '" + s + "'";
  }
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    std::string s = std::string(typed_array_name(t.TypedArrayType())) + "(" + std::to_string(t.ElementLength()) + ")";
    return is_detached(v) ? s + " over a detached (freed) ArrayBuffer" : s;
  }
  if (v.IsDataView()) {
    std::string s = "DataView(" + std::to_string(v.As<Napi::DataView>().ByteLength()) + " bytes)";
    return is_detached(v) ? s + " over a detached (freed) ArrayBuffer" : s;
  }
  if (v.IsArrayBuffer()) {
    if (is_detached(v)) return "a detached (freed) ArrayBuffer";
    return "ArrayBuffer(" + std::to_string(v.As<Napi::ArrayBuffer>().ByteLength()) + ")";
  }
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) {
    const std::string name = constructor_name(env, v);
    return name.empty() || name == "Object" ? "an object" : with_article(name);
  }
  return "an unsupported value";
}

void throw_type_error(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }
void throw_range_error(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

Args::Args(const Napi::CallbackInfo& info, const char* signature, size_t required)
    : info_(info), fn_(signature) {
  const size_t open = fn_.find('(');
  const size_t close = fn_.rfind(')');
  std::string name = open == std::string::npos ? fn_ : fn_.substr(0, open);
  size_t max_args = std::numeric_limits<size_t>::max();
  if (open != std::string::npos && close != std::string::npos && close > open) {
    const std::string params = fn_.substr(open + 1, close - open - 1);
    if (params.find("...") == std::string::npos) {
      max_args = params.find_first_not_of(' ') == std::string::npos ? 0 : 1;
      for (char c : params) max_args += c == ',' ? 1 : 0;
    }
  }
  const auto plural = [](size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); };
  if (info.Length() < required) {
    throw_type_error(info.Env(), fn_ + ": expected " + (required == max_args ? "" : "at least ") + plural(required) +
                                     ", received " + std::to_string(info.Length()));
  }
  if (info.Length() > max_args) {
    throw_type_error(info.Env(), fn_ + ": expected " + (required == max_args ? "" : "at most ") + plural(max_args) +
                                     ", received " + std::to_string(info.Length()));
  }
  fn_ = name;
}

// The fields of src/validate.ts's argument errors: a caller re-raising under its own name edits
// them (renameFunction) instead of matching the message.
[[noreturn]] void throw_argument_error(Napi::Error e, const std::string& fn, const char* arg) {
  e.Set("fn", Napi::String::New(e.Env(), fn));
  e.Set("arg", Napi::String::New(e.Env(), arg));
  throw e;
}

void Args::type_error(const char* name, const std::string& expected, const Napi::Value& got) const {
  throw_argument_error(Napi::TypeError::New(env(), fn_ + ": argument '" + name + "' must be " + expected + ", received " + describe(got)), fn_,
                       name);
}

void Args::range_error(const char* name, const std::string& expected, const std::string& got) const {
  throw_argument_error(Napi::RangeError::New(env(), fn_ + ": argument '" + name + "' must be " + expected + ", received " + got), fn_, name);
}

std::string Args::string(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsString()) type_error(name, "a string", v);
  return v.As<Napi::String>().Utf8Value();
}

std::string Args::choice(size_t i, const char* name, std::initializer_list<const char*> choices) const {
  return choice(i, name, std::vector<std::string>(choices.begin(), choices.end()));
}

std::string Args::choice(size_t i, const char* name, const std::vector<std::string>& choices) const {
  std::string s = string(i, name);
  std::string list;
  for (const std::string& c : choices) {
    if (s == c) return s;
    list += (list.empty() ? "'" : ", '") + c + "'";
  }
  range_error(name, "one of " + list, "'" + s + "'");
}

bool Args::boolean(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsBoolean()) type_error(name, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

double Args::finite(size_t i, const char* name) const {
  Napi::Value v = info_[i];
  if (!v.IsNumber()) type_error(name, "a number", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) range_error(name, "a finite number", format_number(d));
  return d;
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
  expected = with_article(expected);
  if (!v.IsTypedArray()) type_error(name, expected, v);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  // napi_get_typedarray_info gives the data pointer for views over SharedArrayBuffers too
  // (Napi::TypedArray::ArrayBuffer() does not: it fails with "Invalid argument").
  if (napi_get_typedarray_info(env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    throw Napi::Error::New(env());
  }
  bool ok = false;
  for (napi_typedarray_type a : allowed) ok = ok || a == type;
  if (!ok) type_error(name, expected, v);
  // A view of a freed buffer reports length 0, so it must be caught here even though it is empty.
  if (is_detached(v)) type_error(name, expected + " over memory that is still live (not freed)", v);
  TypedView view;
  view.array = v.As<Napi::TypedArray>();
  view.type = type;
  view.length = length;
  view.elem_size = typed_array_element_size(type);
  view.data = length == 0 ? nullptr : static_cast<uint8_t*>(data);
  if (view.data == nullptr && view.length > 0) {
    throw_type_error(env(), fn_ + ": argument '" + name + "' has no accessible memory, received " + describe(v));
  }
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

// Shared checks of typed-array arguments.

namespace {
constexpr int64_t kMaxElements = int64_t(1) << 53;
}  // namespace

void expect_length(const Args& args, const char* name, const TypedView& v, uint64_t expected, const char* why) {
  if (v.length != expected) {
    args.range_error(name, "of length " + std::to_string(expected) + " (" + why + ")", "length " + std::to_string(v.length));
  }
}

void check_elements(const Args& args, int64_t rows, int64_t cols, const char* rows_name, const char* cols_name) {
  if (rows > 0 && cols > kMaxElements / rows) {
    args.range_error(cols_name,
                     "at most " + std::to_string(kMaxElements / rows) + " when " + rows_name + " is " + std::to_string(rows) +
                         " (" + rows_name + " * " + cols_name + " at most 2^53)",
                     std::to_string(cols));
  }
}

bool overlaps(const TypedView& a, const TypedView& b) {
  const uintptr_t pa = reinterpret_cast<uintptr_t>(a.data), pb = reinterpret_cast<uintptr_t>(b.data);
  const size_t na = a.length * a.elem_size, nb = b.length * b.elem_size;
  return na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

void expect_disjoint(const Args& args, const char* name, const TypedView& v, const char* other_name,
                     const TypedView& other) {
  if (overlaps(v, other)) args.range_error(name, std::string("memory that does not overlap ") + other_name, "an overlapping view");
}

void check_scales(const Args& args, const char* name, const TypedView& v) {
  const float* s = reinterpret_cast<const float*>(v.data);
  for (size_t i = 0; i < v.length; ++i) {
    if (!(std::isfinite(s[i]) && s[i] > 0.0f)) {
      args.range_error(name, "finite positive scales", std::string(name) + "[" + std::to_string(i) + "] = " + format_number(s[i]));
    }
  }
}

std::optional<TypedView> optional_f32(const Args& args, size_t i, const char* name, uint64_t length, const char* why) {
  if (args.is_null(i)) return std::nullopt;
  TypedView v = args.typed(i, name, {napi_float32_array});
  expect_length(args, name, v, length, why);
  return v;
}

}  // namespace binding
}  // namespace bitnet
