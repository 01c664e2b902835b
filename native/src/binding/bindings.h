#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace bitnet {
namespace binding {

// Memory and runtime (not kernels).
void register_storage(Napi::Env env, Napi::Object exports);
void register_mapped(Napi::Env env, Napi::Object exports);
void register_runtime(Napi::Env env, Napi::Object exports);
// One file per kernel family (binding/<family>.cc), named as the family in native/src/cpu/.
void register_gemm(Napi::Env env, Napi::Object exports);
void register_attention(Napi::Env env, Napi::Object exports);
void register_norm(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_pack(Napi::Env env, Napi::Object exports);
void register_ternary(Napi::Env env, Napi::Object exports);
void register_dense(Napi::Env env, Napi::Object exports);
void register_convert(Napi::Env env, Napi::Object exports);
void register_copy(Napi::Env env, Napi::Object exports);
void register_roofline(Napi::Env env, Napi::Object exports);

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
