#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace bitnet {
namespace binding {

// Each binding file (storage, mapped, runtime, and one per kernel family, named as the family in
// native/src/cpu/) registers its exports with a static BindingRegistration; the module's Init
// runs every registered function, so adding a file adds its exports.
using RegisterExports = void (*)(Napi::Env env, Napi::Object exports);
std::vector<RegisterExports>& binding_registrations();
struct BindingRegistration {
  explicit BindingRegistration(RegisterExports fn) { binding_registrations().push_back(fn); }
};

// Exports `fn` as `name`, a kernel of `family`; backendInfo().kernels lists every such pair so
// the TypeScript gateway and profiler learn each export's family from the addon.
void define_kernel(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn, const char* family);
struct KernelExport {
  std::string name;
  std::string family;
};
const std::vector<KernelExport>& kernel_exports();

}  // namespace binding
}  // namespace bitnet
