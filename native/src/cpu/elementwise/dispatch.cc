#include "cpu/elementwise/elementwise.h"

namespace bitnet {

const KernelFamily<ElementwiseKernels>& elementwise_family() {
  static const KernelFamily<ElementwiseKernels> family("elementwise", {
    {"scalar", Isa::Scalar, &kElementwiseScalar},
#ifdef BITNET_HAVE_AVX2
    {"avx2", Isa::Avx2, &kElementwiseAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kElementwiseAvx512},
#endif
  });
  return family;
}

}  // namespace bitnet
