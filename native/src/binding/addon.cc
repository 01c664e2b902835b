// Module entry point: checks the environment overrides, then registers every binding.
#include <cstdlib>
#include <mutex>
#include <string>

#include "binding/bindings.h"
#include "core/isa.h"

namespace bitnet {
namespace binding {
namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A forced ISA the CPU cannot run would otherwise fault on the first kernel call.
  if (const char* forced = std::getenv("BITNET_ISA")) {
    std::string name(forced);
    Isa isa;
    if (!name.empty() && name != "auto") {
      if (!parse_isa(name, &isa)) {
        std::string names = "'auto'";
        for (Isa i : all_isas()) names += std::string(", '") + isa_name(i) + "'";
        throw Napi::RangeError::New(env, "BITNET_ISA must be one of " + names + ", received '" + name + "'");
      }
      if (!isa_supported(isa)) {
        throw Napi::RangeError::New(env, "BITNET_ISA='" + name + "' is not supported by this CPU or build; best available is '" +
                                             isa_name(best_isa()) + "'");
      }
    }
  }
  for (RegisterExports fn : binding_registrations()) fn(env, exports);
  return exports;
}

}  // namespace

std::vector<RegisterExports>& binding_registrations() {
  static auto* list = new std::vector<RegisterExports>();
  return *list;
}

std::vector<KernelExport>& mutable_kernel_exports() {
  static auto* list = new std::vector<KernelExport>();
  return *list;
}

void define_kernel(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn, const char* family) {
  exports.Set(name, Napi::Function::New(env, fn, name));
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  for (const KernelExport& k : mutable_kernel_exports()) {
    if (k.name == name) return;  // a second module instance (worker thread) registers again
  }
  mutable_kernel_exports().push_back({name, family});
}

const std::vector<KernelExport>& kernel_exports() { return mutable_kernel_exports(); }
}  // namespace binding
}  // namespace bitnet

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return bitnet::binding::Init(env, exports); }

NODE_API_MODULE(bitnet_lab, InitAddon)
