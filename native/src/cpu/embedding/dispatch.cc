#include "cpu/embedding/embedding.h"

namespace bitnet {

const KernelFamily<EmbeddingKernels>& embedding_family() {
  static const KernelFamily<EmbeddingKernels> family("embedding", {
    {Isa::Scalar, &kEmbeddingScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kEmbeddingAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kEmbeddingAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kEmbeddingNeon},
#endif
  });
  return family;
}

namespace {
const FamilyRegistration kRegistration([] { return describe_family(embedding_family()); });
}  // namespace

}  // namespace bitnet
