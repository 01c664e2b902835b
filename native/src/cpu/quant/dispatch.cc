#include "cpu/quant/quant.h"

namespace bitnet {

const KernelFamily<QuantKernels>& quant_family() {
  static const KernelFamily<QuantKernels> family("quant", {
    {Isa::Scalar, &kQuantScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kQuantAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kQuantAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kQuantNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(quant_family()); });
}  // namespace

}  // namespace bitnet
