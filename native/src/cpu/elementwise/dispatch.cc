#include "cpu/elementwise/elementwise.h"

namespace bitnet {

const KernelFamily<ElementwiseKernels>& elementwise_family() {
  static const KernelFamily<ElementwiseKernels> family("elementwise", {
    {Isa::Scalar, &kElementwiseScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kElementwiseAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kElementwiseAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kElementwiseNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(elementwise_family()); });
}  // namespace

}  // namespace bitnet
