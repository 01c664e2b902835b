#include "cpu/norm/norm.h"

namespace bitnet {

const KernelFamily<NormKernels>& norm_family() {
  static const KernelFamily<NormKernels> family("norm", {
    {Isa::Scalar, &kNormScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kNormAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kNormAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kNormNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(norm_family()); });
}  // namespace

}  // namespace bitnet
