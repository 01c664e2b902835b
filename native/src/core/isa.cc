#include "core/isa.h"

#include <atomic>
#include <cstdlib>

#include "core/cpu_features.h"
#include "core/errors.h"

namespace bitnet {
namespace {

Isa initial_isa() {
  const char* env = std::getenv("BITNET_ISA");
  if (env == nullptr || *env == 0 || std::string(env) == "auto") return best_isa();
  Isa isa;
  // An unusable BITNET_ISA must not abort the process at load time: the binding reports it
  // through forced_isa_problem() when the addon initialises.
  if (!parse_isa(env, &isa) || !isa_supported(isa)) return best_isa();
  return isa;
}

std::atomic<int>& ceiling() {
  static std::atomic<int> value{static_cast<int>(initial_isa())};
  return value;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  if (name == "scalar") *out = Isa::Scalar;
  else if (name == "avx2") *out = Isa::Avx2;
  else if (name == "avx512") *out = Isa::Avx512;
  else if (name == "neon") *out = Isa::Neon;
  else return false;
  return true;
}

bool isa_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
#ifdef BITNET_HAVE_AVX2
      return f.avx2 && f.fma && f.f16c;
#else
      return false;
#endif
    case Isa::Avx512:
#ifdef BITNET_HAVE_AVX512
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni && f.avx512bf16 &&
             f.avx2 && f.fma && f.f16c;
#else
      return false;
#endif
    case Isa::Neon:
#ifdef BITNET_HAVE_NEON
      return f.neon && f.dotprod;
#else
      return false;
#endif
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::Avx512)) return Isa::Avx512;
  if (isa_supported(Isa::Avx2)) return Isa::Avx2;
  if (isa_supported(Isa::Neon)) return Isa::Neon;
  return Isa::Scalar;
}

Isa active_isa() { return static_cast<Isa>(ceiling().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  if (!isa_supported(isa)) {
    throw RangeError(std::string("ISA '") + isa_name(isa) +
                     "' is not supported by this CPU or build; best available is '" +
                     isa_name(best_isa()) + "'");
  }
  ceiling().store(static_cast<int>(isa), std::memory_order_relaxed);
}

bool isa_allows(Isa ceiling_isa, Isa variant) {
  if (variant == Isa::Scalar) return true;
  if (variant == Isa::Neon) return ceiling_isa == Isa::Neon;
  if (ceiling_isa == Isa::Neon) return false;
  return static_cast<int>(variant) <= static_cast<int>(ceiling_isa);
}

}  // namespace bitnet
