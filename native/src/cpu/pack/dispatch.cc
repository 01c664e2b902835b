#include "cpu/pack/pack.h"

namespace bitnet {

const KernelFamily<PackKernels>& pack_family() {
  static const KernelFamily<PackKernels> family("pack", {{Isa::Scalar, &kPackScalar}});
  return family;
}


}  // namespace bitnet
