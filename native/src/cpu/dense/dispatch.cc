#include "cpu/dense/dense.h"

namespace bitnet {

const KernelFamily<DenseKernels>& dense_family() {
  static const KernelFamily<DenseKernels> family("dense", {
    {"scalar", Isa::Scalar, &kDenseScalar},
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kDenseAvx512},
#endif
  });
  return family;
}

}  // namespace bitnet
