#include "cpu/attention/attention.h"

namespace bitnet {

const KernelFamily<AttentionKernels>& attention_family() {
  static const KernelFamily<AttentionKernels> family("attention", {
    {Isa::Scalar, &kAttentionScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kAttentionAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kAttentionAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kAttentionNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(attention_family()); });
}  // namespace

}  // namespace bitnet
