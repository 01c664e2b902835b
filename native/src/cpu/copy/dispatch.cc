#include "cpu/copy/copy.h"

namespace bitnet {

const KernelFamily<CopyKernels>& copy_family() {
  static const KernelFamily<CopyKernels> family("copy", {
    {Isa::Scalar, &kCopyScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kCopyAvx2},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kCopyNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(copy_family()); });
}  // namespace

}  // namespace bitnet
