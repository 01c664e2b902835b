#include "cpu/ternary/ternary.h"

namespace bitnet {

const KernelFamily<TernaryKernels>& ternary_family() {
  static const KernelFamily<TernaryKernels> family("ternary", {
    {Isa::Scalar, &kTernaryScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kTernaryAvx2},
#endif
#ifdef BITNET_HAVE_AVXVNNI
    {Isa::AvxVnni, &kTernaryAvxVnni},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kTernaryAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kTernaryNeon},
#endif
#ifdef BITNET_HAVE_NEON_DOTPROD
    {Isa::NeonDotprod, &kTernaryNeonDotprod},
#endif
#ifdef BITNET_HAVE_NEON_I8MM
    {Isa::NeonI8mm, &kTernaryNeonI8mm},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(ternary_family()); });
}  // namespace

}  // namespace bitnet
