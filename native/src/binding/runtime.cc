// Bindings of the runtime: threads, ISA ceiling, device selection and backendInfo().
#include <cstdlib>
#include <stdexcept>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"
#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/isa.h"
#include "core/thread_pool.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "setNumThreads(threads)", 1);
    set_num_threads(static_cast<int>(args.integer(0, "threads", 1, kMaxThreads)));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "getNumThreads()", 0);
    return Napi::Number::New(info.Env(), num_threads());
  });
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "setIsa(isa)", 1);
    std::vector<std::string> names{"auto"};
    for (Isa i : all_isas()) names.push_back(isa_name(i));
    const std::string name = args.choice(0, "isa", names);
    Isa isa = best_isa();
    if (name != "auto") parse_isa(name, &isa);
    if (!isa_supported(isa)) {
      args.range_error("isa", std::string("an ISA this CPU and build support (best: '") + isa_name(best_isa()) + "')",
                       "'" + name + "'");
    }
    set_isa(isa);
    return Napi::String::New(info.Env(), isa_name(isa));
  });
}

Napi::Value GetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "getIsa()", 0);
    return Napi::String::New(info.Env(), isa_name(active_isa()));
  });
}

Napi::Value SelectDevice(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "selectDevice(device)", 1);
    const std::string name = args.choice(0, "device", {"cpu", "metal", "auto"});
    try {
      return Napi::String::New(info.Env(), backend_for(name).name());
    } catch (const bitnet::RangeError&) {
      throw;
    } catch (const std::runtime_error& e) {
      // A known device that this build lacks: a plain Error (not a bad argument), named.
      Napi::Error error = Napi::Error::New(info.Env(), std::string("selectDevice: ") + e.what());
      error.Set("fn", Napi::String::New(info.Env(), "selectDevice"));
      error.Set("arg", Napi::String::New(info.Env(), "device"));
      throw error;
    }
  });
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); ++i) a.Set(i, v[i]);
  return a;
}

Napi::Value BackendInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "backendInfo()", 0);
    Napi::Env env = info.Env();
    const CpuFeatures& f = cpu_features();
    Napi::Object cpu = Napi::Object::New(env);
    cpu.Set("model", f.model);
    cpu.Set("arch", f.arch);
    cpu.Set("logicalCores", f.logical_cores);
    cpu.Set("defaultThreads", f.default_threads);
    std::vector<std::string> feats;
    const std::pair<bool, const char*> named[] = {
        {f.avx2, "avx2"}, {f.fma, "fma"}, {f.f16c, "f16c"}, {f.avx512f, "avx512f"}, {f.avx512bw, "avx512bw"},
        {f.avx512vl, "avx512vl"}, {f.avx512dq, "avx512dq"}, {f.avx512vnni, "avx512vnni"},
        {f.avx512bf16, "avx512bf16"}, {f.avxvnni, "avxvnni"}, {f.neon, "neon"}, {f.dotprod, "dotprod"},
        {f.i8mm, "i8mm"}};
    for (const auto& p : named) {
      if (p.first) feats.push_back(p.second);
    }
    cpu.Set("features", strings(env, feats));

    Napi::Object isa = Napi::Object::New(env);
    isa.Set("best", isa_name(best_isa()));
    isa.Set("active", isa_name(active_isa()));
    const char* forced = std::getenv("BITNET_ISA");
    isa.Set("forced", forced != nullptr && *forced != 0 ? Napi::Value(Napi::String::New(env, forced)) : env.Null());
    std::vector<std::string> supported;
    for (Isa i : all_isas()) {
      if (isa_supported(i)) supported.push_back(isa_name(i));
    }
    isa.Set("supported", strings(env, supported));

    Backend& host = backend_for(Device::Cpu);
    Napi::Array families = Napi::Array::New(env);
    uint32_t k = 0;
    for (const FamilyInfo& fi : host.families()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", fi.name);
      o.Set("chosen", fi.chosen);
      o.Set("available", strings(env, fi.available));
      families.Set(k++, o);
    }

    Napi::Object flags = Napi::Object::New(env);
    flags.Set("base", BITNET_CXX_FLAGS);
    for (Isa i : all_isas()) {
      if (i != Isa::Scalar && isa_flags(i)[0] != 0) flags.Set(isa_name(i), isa_flags(i));
    }

    // Each kernel export with its family (the variant running it is the family's "chosen").
    Napi::Array kernels = Napi::Array::New(env);
    uint32_t e = 0;
    for (const KernelExport& ke : kernel_exports()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", ke.name);
      o.Set("family", ke.family);
      kernels.Set(e++, o);
    }

    Napi::Object devices = Napi::Object::New(env);
    devices.Set("cpu", true);
    devices.Set("metal", metal_built());

    Napi::Object o = Napi::Object::New(env);
    o.Set("cpu", cpu);
    o.Set("isa", isa);
    o.Set("threads", num_threads());
    o.Set("compiler", BITNET_COMPILER);
    o.Set("flags", flags);
    o.Set("families", families);
    o.Set("kernels", kernels);
    o.Set("bf16Gemm", host.bf16_gemm_native() ? "native" : "fp32");
    o.Set("devices", devices);
#ifdef BITNET_SANITIZED
    o.Set("sanitized", true);
#else
    o.Set("sanitized", false);
#endif
    o.Set("napiVersion", NAPI_VERSION);
    return o;
  });
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("getIsa", Napi::Function::New(env, GetIsa, "getIsa"));
  exports.Set("selectDevice", Napi::Function::New(env, SelectDevice, "selectDevice"));
  exports.Set("backendInfo", Napi::Function::New(env, BackendInfo, "backendInfo"));
}

namespace {
const BindingRegistration kRegistration(register_runtime);
}  // namespace

}  // namespace binding
}  // namespace bitnet
