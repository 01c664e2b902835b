#include "cpu/norm/norm.h"

namespace bitnet {

const KernelFamily<NormKernels>& norm_family() {
  static const KernelFamily<NormKernels> family("norm", {
    {"scalar", Isa::Scalar, &kNormScalar},
#ifdef BITNET_HAVE_AVX2
    {"avx2", Isa::Avx2, &kNormAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kNormAvx512},
#endif
  });
  return family;
}

}  // namespace bitnet
