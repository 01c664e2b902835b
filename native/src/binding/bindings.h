#pragma once
#include <napi.h>

namespace bitnet {
namespace binding {

void register_storage(Napi::Env env, Napi::Object exports);
void register_ops(Napi::Env env, Napi::Object exports);
void register_runtime(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_linalg(Napi::Env env, Napi::Object exports);
void register_mapped(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace bitnet
