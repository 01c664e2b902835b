#include "cpu/pack/pack.h"

namespace bitnet {

const KernelFamily<PackKernels>& pack_family() {
  static const KernelFamily<PackKernels> family("pack", {
    {Isa::Scalar, &kPackScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kPackAvx2},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kPackNeon},
#endif
  });
  return family;
}


namespace {
const FamilyRegistration kRegistration([] { return describe_family(pack_family()); });
}  // namespace

}  // namespace bitnet
