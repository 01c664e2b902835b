#include "cpu/gemm/gemm.h"

namespace bitnet {

const KernelFamily<GemmKernels>& gemm_family() {
  static const KernelFamily<GemmKernels> family("gemm", {
    {Isa::Scalar, &kGemmScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kGemmAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kGemmAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kGemmNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(gemm_family()); });
}  // namespace

}  // namespace bitnet
