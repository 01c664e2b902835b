#include "core/registry.h"

namespace bitnet {

std::vector<FamilyDescriber>& family_describers() {
  static auto* list = new std::vector<FamilyDescriber>();
  return *list;
}

}  // namespace bitnet
