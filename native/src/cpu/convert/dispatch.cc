#include "cpu/convert/convert.h"

namespace bitnet {

const KernelFamily<ConvertKernels>& convert_family() {
  static const KernelFamily<ConvertKernels> family("convert", {
    {"scalar", Isa::Scalar, &kConvertScalar},
#ifdef BITNET_HAVE_AVX2
    {"avx2", Isa::Avx2, &kConvertAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kConvertAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {"neon", Isa::Neon, &kConvertNeon},
#endif
  });
  return family;
}

}  // namespace bitnet
