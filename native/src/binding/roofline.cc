// Bindings of family "roofline": the memory read and int8 dot chain the benchmarks compare
// kernels against.
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Value StreamRead(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "streamRead(data)", 1);
    TypedView data = args.typed(0, "data", {napi_uint8_array});
    if (data.length % 8 != 0) args.range_error("data", "a length that is a multiple of 8", "length " + std::to_string(data.length));
    const uint64_t sum = backend_of(data).stream_read(data.data, data.length);
    // Only the low 32 bits are returned: enough to keep the loads alive.
    return Napi::Number::New(info.Env(), static_cast<double>(sum & 0xffffffffu));
  });
}

Napi::Value Int8DotPeak(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "int8DotPeak(iterations)", 1);
    const int64_t iterations = args.integer(0, "iterations", 1, int64_t{1} << 40);
    return Napi::Number::New(info.Env(), static_cast<double>(backend_for(Device::Cpu).int8_dot_peak(static_cast<uint64_t>(iterations))));
  });
}

}  // namespace

void register_roofline(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "streamRead", StreamRead, "roofline");
  define_kernel(env, exports, "int8DotPeak", Int8DotPeak, "roofline");
}

namespace {
const BindingRegistration kRegistration(register_roofline);
}  // namespace

}  // namespace binding
}  // namespace bitnet
