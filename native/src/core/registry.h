// Kernel registry: each kernel family lists its variants (one per ISA) as tables of plain
// function pointers. Dispatch picks the best variant the active ISA ceiling allows; tests walk
// every variant the machine supports and demand identical results.
//
// Helpers in a family's header are `static inline` (or in an anonymous namespace): each ISA's
// translation unit is compiled with its own flags, and a plain inline function defined in
// several of them is one symbol to the linker, which may keep the AVX-512 copy for the scalar
// variant too (an illegal instruction on a CPU without AVX-512).
#pragma once
#include <string>
#include <vector>

#include "core/isa.h"

namespace bitnet {

template <class Table>
struct Variant {
  Isa isa;
  const Table* table;
};

template <class Table>
class KernelFamily {
 public:
  KernelFamily(const char* name, std::vector<Variant<Table>> variants)
      : name_(name), variants_(std::move(variants)) {}

  const char* name() const { return name_; }
  const std::vector<Variant<Table>>& variants() const { return variants_; }

  // The last registered variant that the ceiling allows and the CPU supports wins, so
  // variants are registered in the order of core/isa.h's levels (scalar first).
  const Variant<Table>& select(Isa ceiling) const {
    const Variant<Table>* best = &variants_.front();
    for (const auto& v : variants_) {
      if (isa_allows(ceiling, v.isa) && isa_supported(v.isa)) best = &v;
    }
    return *best;
  }
  const Table& active() const { return *select(active_isa()).table; }

 private:
  const char* name_;
  std::vector<Variant<Table>> variants_;
};

// What backendInfo() reports for one family.
struct FamilyInfo {
  std::string name;
  std::string chosen;
  std::vector<std::string> available;
};

// Families register a describer at load time (FamilyRegistration in their dispatch.cc), so
// backendInfo() lists every family without a hand-kept list.
using FamilyDescriber = FamilyInfo (*)();
std::vector<FamilyDescriber>& family_describers();
struct FamilyRegistration {
  explicit FamilyRegistration(FamilyDescriber describe) { family_describers().push_back(describe); }
};

template <class Table>
FamilyInfo describe_family(const KernelFamily<Table>& family) {
  FamilyInfo info;
  info.name = family.name();
  info.chosen = isa_name(family.select(active_isa()).isa);
  for (const auto& v : family.variants()) {
    if (isa_supported(v.isa)) info.available.push_back(isa_name(v.isa));
  }
  return info;
}

}  // namespace bitnet
