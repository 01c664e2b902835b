#include "cpu/stream/stream.h"

namespace bitnet {

const KernelFamily<StreamKernels>& stream_family() {
  static const KernelFamily<StreamKernels> family("stream", {
    {Isa::Scalar, &kStreamScalar},
#ifdef BITNET_HAVE_AVX2
    {Isa::Avx2, &kStreamAvx2},
#endif
#ifdef BITNET_HAVE_AVX512
    {Isa::Avx512, &kStreamAvx512},
#endif
#ifdef BITNET_HAVE_NEON
    {Isa::Neon, &kStreamNeon},
#endif
  });
  return family;
}

}  // namespace bitnet
