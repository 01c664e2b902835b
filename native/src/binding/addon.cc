// Module entry point: checks the environment overrides, then registers every binding.
#include <cstdlib>
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
  register_storage(env, exports);
  register_ops(env, exports);
  register_runtime(env, exports);
  register_quant(env, exports);
  register_linalg(env, exports);
  register_mapped(env, exports);
  return exports;
}

}  // namespace
}  // namespace binding
}  // namespace bitnet

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return bitnet::binding::Init(env, exports); }

NODE_API_MODULE(bitnet_lab, InitAddon)
