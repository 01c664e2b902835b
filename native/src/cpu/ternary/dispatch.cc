#include "cpu/ternary/ternary.h"

namespace bitnet {

const KernelFamily<TernaryKernels>& ternary_family() {
  static const KernelFamily<TernaryKernels> family("ternary", {
    {"scalar", Isa::Scalar, &kTernaryScalar},
#ifdef BITNET_HAVE_AVX2
    {"avx2", Isa::Avx2, &kTernaryAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kTernaryAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {"neon", Isa::Neon, &kTernaryNeon},
#endif
  });
  return family;
}

}  // namespace bitnet
