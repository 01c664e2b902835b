#include "cpu/convert/convert.h"

namespace bitnet {

const KernelFamily<ConvertKernels>& convert_family() {
  static const KernelFamily<ConvertKernels> family("convert", {
    {Isa::Scalar, &kConvertScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kConvertAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kConvertAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kConvertNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(convert_family()); });
}  // namespace

}  // namespace bitnet
