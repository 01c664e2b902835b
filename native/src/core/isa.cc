#include "core/isa.h"

#include <atomic>
#include <cstdlib>

#include "core/cpu_features.h"
#include "core/errors.h"

#ifndef BITNET_FLAGS_AVX2
#define BITNET_FLAGS_AVX2 ""
#endif
#ifndef BITNET_FLAGS_AVXVNNI
#define BITNET_FLAGS_AVXVNNI ""
#endif
#ifndef BITNET_FLAGS_AVX512
#define BITNET_FLAGS_AVX512 ""
#endif
#ifndef BITNET_FLAGS_NEON
#define BITNET_FLAGS_NEON ""
#endif
#ifndef BITNET_FLAGS_NEON_DOTPROD
#define BITNET_FLAGS_NEON_DOTPROD ""
#endif
#ifndef BITNET_FLAGS_NEON_I8MM
#define BITNET_FLAGS_NEON_I8MM ""
#endif

namespace bitnet {
namespace {

enum class Arch { Any, X86, Arm64 };

struct IsaInfo {
  Isa isa;
  const char* name;
  Arch arch;
  int level;  // position in its architecture's chain (scalar 0)
  bool built;
  const char* flags;
};

constexpr bool kBuiltAvx2 =
#ifdef BITNET_HAVE_AVX2
    true;
#else
    false;
#endif
constexpr bool kBuiltAvxVnni =
#ifdef BITNET_HAVE_AVXVNNI
    true;
#else
    false;
#endif
constexpr bool kBuiltAvx512 =
#ifdef BITNET_HAVE_AVX512
    true;
#else
    false;
#endif
constexpr bool kBuiltNeon =
#ifdef BITNET_HAVE_NEON
    true;
#else
    false;
#endif
constexpr bool kBuiltNeonDotprod =
#ifdef BITNET_HAVE_NEON_DOTPROD
    true;
#else
    false;
#endif
constexpr bool kBuiltNeonI8mm =
#ifdef BITNET_HAVE_NEON_I8MM
    true;
#else
    false;
#endif

const IsaInfo kIsas[] = {
    {Isa::Scalar, "scalar", Arch::Any, 0, true, ""},
    {Isa::Avx2, "avx2", Arch::X86, 1, kBuiltAvx2, BITNET_FLAGS_AVX2},
    {Isa::AvxVnni, "avxvnni", Arch::X86, 2, kBuiltAvxVnni, BITNET_FLAGS_AVXVNNI},
    {Isa::Avx512, "avx512", Arch::X86, 3, kBuiltAvx512, BITNET_FLAGS_AVX512},
    {Isa::Neon, "neon", Arch::Arm64, 1, kBuiltNeon, BITNET_FLAGS_NEON},
    {Isa::NeonDotprod, "neon-dotprod", Arch::Arm64, 2, kBuiltNeonDotprod, BITNET_FLAGS_NEON_DOTPROD},
    {Isa::NeonI8mm, "neon-i8mm", Arch::Arm64, 3, kBuiltNeonI8mm, BITNET_FLAGS_NEON_I8MM},
};

const IsaInfo& info(Isa isa) { return kIsas[static_cast<int>(isa)]; }

bool cpu_has(Isa isa) {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return avx2;
    case Isa::AvxVnni: return avx2 && f.avxvnni;
    case Isa::Avx512:
      return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni && f.avx512bf16;
    case Isa::Neon: return f.neon;
    case Isa::NeonDotprod: return f.neon && f.dotprod;
    case Isa::NeonI8mm: return f.neon && f.dotprod && f.i8mm;
  }
  return false;
}

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

const char* isa_name(Isa isa) { return info(isa).name; }

const std::vector<Isa>& all_isas() {
  static const std::vector<Isa> all = [] {
    std::vector<Isa> v;
    for (const IsaInfo& i : kIsas) v.push_back(i.isa);
    return v;
  }();
  return all;
}

bool parse_isa(const std::string& name, Isa* out) {
  for (const IsaInfo& i : kIsas) {
    if (name == i.name) {
      *out = i.isa;
      return true;
    }
  }
  return false;
}

bool isa_supported(Isa isa) { return info(isa).built && cpu_has(isa); }

Isa best_isa() {
  Isa best = Isa::Scalar;
  for (const IsaInfo& i : kIsas) {
    if (isa_supported(i.isa) && i.level > info(best).level) best = i.isa;
  }
  return best;
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
  const IsaInfo& v = info(variant);
  const IsaInfo& c = info(ceiling_isa);
  if (v.arch == Arch::Any) return true;
  return v.arch == c.arch && v.level <= c.level;
}

const char* isa_flags(Isa isa) { return info(isa).flags; }

}  // namespace bitnet
