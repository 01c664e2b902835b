#include "cpu/dense/dense.h"

namespace bitnet {

const KernelFamily<DenseKernels>& dense_family() {
  static const KernelFamily<DenseKernels> family("dense", {
    {Isa::Scalar, &kDenseScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kDenseAvx2},
#endif
#ifdef BITNET_HAVE_AVXVNNI
    {Isa::AvxVnni, &kDenseAvxVnni},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kDenseAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kDenseNeon},
#endif
#ifdef BITNET_HAVE_NEON_DOTPROD
    {Isa::NeonDotprod, &kDenseNeonDotprod},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(dense_family()); });
}  // namespace

}  // namespace bitnet
