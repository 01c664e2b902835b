#include "cpu/attention/attention.h"

namespace bitnet {

const KernelFamily<AttentionKernels>& attention_family() {
  static const KernelFamily<AttentionKernels> family("attention", {
    {"scalar", Isa::Scalar, &kAttentionScalar},
#ifdef BITNET_HAVE_AVX2
    {"avx2", Isa::Avx2, &kAttentionAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {"avx512", Isa::Avx512, &kAttentionAvx512},
#endif
  });
  return family;
}

}  // namespace bitnet
