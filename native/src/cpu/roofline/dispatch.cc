#include "cpu/roofline/roofline.h"

namespace bitnet {

const KernelFamily<RooflineKernels>& roofline_family() {
  static const KernelFamily<RooflineKernels> family("roofline", {
    {Isa::Scalar, &kRooflineScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kRooflineAvx2},
#endif
#ifdef BITNET_HAVE_AVXVNNI
    {Isa::AvxVnni, &kRooflineAvxVnni},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kRooflineAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kRooflineNeon},
#endif
#ifdef BITNET_HAVE_NEON_DOTPROD
    {Isa::NeonDotprod, &kRooflineNeonDotprod},
#endif
#ifdef BITNET_HAVE_NEON_I8MM
    {Isa::NeonI8mm, &kRooflineNeonI8mm},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(roofline_family()); });
}  // namespace

}  // namespace bitnet
