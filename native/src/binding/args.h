// Argument validation for every binding: the only place JS values become C++ values. Each
// failure is a JS TypeError (wrong kind) or RangeError (wrong size or value) that names the
// function, the argument, what was expected and what was received.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.h"

namespace bitnet {
namespace binding {

// A short description of a JS value for error messages: "Float32Array(12)", "number NaN",
// "string 'f64'", "a detached (freed) ArrayBuffer", "a SharedArrayBuffer". Never throws a JS
// exception.
std::string describe(const Napi::Value& v);
// Shortest decimal that reads back as `d` ("0.1", "1e+300", "NaN", "-Infinity").
std::string format_number(double d);

[[noreturn]] void throw_type_error(Napi::Env env, const std::string& message);
[[noreturn]] void throw_range_error(Napi::Env env, const std::string& message);

struct TypedView {
  Napi::TypedArray array;
  napi_typedarray_type type;
  uint8_t* data;      // first element of the view (nullptr only when length is 0)
  size_t length;      // elements
  size_t elem_size;   // bytes
  // Where the memory lives. A JS typed array is host memory; device-resident storage (Metal
  // buffers) will say so here, and its kernels will run on that device's backend.
  Device device = Device::Cpu;
};

// The backend that runs a kernel on `v`'s memory: the binding's only way to a kernel.
inline Backend& backend_of(const TypedView& v) { return backend_for(v.device); }

// Bounds that keep every int32 accumulation exact and every index in range.
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxK = int64_t(1) << 22;
// "No index": what the kernels return when every element was valid.
constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Whether `v` is an ArrayBuffer, or a typed array / DataView over one, that was detached
// (dispose()d, free()d or transferred). SharedArrayBuffers are never detached.
bool is_detached(const Napi::Value& v);

class Args {
 public:
  // `signature` is shown in messages, e.g. "convert(src, srcDtype, dst, dstDtype)". Fewer than
  // `required` arguments, or more than the signature lists, is a TypeError (a signature ending
  // in "...)" accepts any number of extra arguments).
  Args(const Napi::CallbackInfo& info, const char* signature, size_t required);

  Napi::Env env() const { return info_.Env(); }
  const std::string& fn() const { return fn_; }

  std::string string(size_t i, const char* name) const;
  // One of `choices`; RangeError listing them otherwise.
  std::string choice(size_t i, const char* name, std::initializer_list<const char*> choices) const;
  std::string choice(size_t i, const char* name, const std::vector<std::string>& choices) const;
  bool boolean(size_t i, const char* name) const;
  // Whether argument i is null (optional typed-array arguments).
  bool is_null(size_t i) const { return info_[i].IsNull(); }
  // A finite number.
  double finite(size_t i, const char* name) const;
  // A finite integer in [lo, hi].
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi) const;
  // A typed array of one of the `allowed` types over an ArrayBuffer or SharedArrayBuffer that
  // is not detached (a detached view is a TypeError even when empty).
  TypedView typed(size_t i, const char* name, std::initializer_list<napi_typedarray_type> allowed) const;
  // A plain array of at most `max_length` integers, each in [lo, hi].
  std::vector<int64_t> integers(size_t i, const char* name, size_t max_length, int64_t lo, int64_t hi) const;
  // An ArrayBuffer (detached or not; callers decide what a detached one means).
  Napi::ArrayBuffer array_buffer(size_t i, const char* name) const;

  [[noreturn]] void type_error(const char* name, const std::string& expected, const Napi::Value& got) const;
  [[noreturn]] void range_error(const char* name, const std::string& expected, const std::string& got) const;

 private:
  const Napi::CallbackInfo& info_;
  std::string fn_;
};

const char* typed_array_name(napi_typedarray_type t);
// "a Float32Array", "an Int8Array".
std::string with_article(const std::string& noun);

// Runs a binding body, turning C++ exceptions from core code into JS errors so that nothing
// below the binding can terminate the process.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body);

// `v` must hold exactly `expected` elements; `why` says how that number comes about.
void expect_length(const Args& args, const char* name, const TypedView& v, uint64_t expected, const char* why);
// rows * cols (both already in range) must stay at most 2^53; the message names `cols_name`.
void check_elements(const Args& args, int64_t rows, int64_t cols, const char* rows_name, const char* cols_name);
// Whether two views share any byte.
bool overlaps(const TypedView& a, const TypedView& b);
// An output `name` must not share memory with `other` (an input or an earlier output).
void expect_disjoint(const Args& args, const char* name, const TypedView& v, const char* other_name, const TypedView& other);
// Every element of the float32 view `v` must be finite and positive (quantization scales).
void check_scales(const Args& args, const char* name, const TypedView& v);
// An optional Float32Array argument: null, or a view of exactly `length` elements.
std::optional<TypedView> optional_f32(const Args& args, size_t i, const char* name, uint64_t length, const char* why);
inline const float* data_of(const std::optional<TypedView>& v) { return v ? reinterpret_cast<const float*>(v->data) : nullptr; }
inline float* mutable_data_of(const std::optional<TypedView>& v) { return v ? reinterpret_cast<float*>(v->data) : nullptr; }

}  // namespace binding
}  // namespace bitnet

#include "binding/guard.h"
