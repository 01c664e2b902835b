#include "cpu/pack/pack.h"

namespace bitnet {

const KernelFamily<PackKernels>& pack_family() {
  static const KernelFamily<PackKernels> family("pack", {{"scalar", Isa::Scalar, &kPackScalar}});
  return family;
}


}  // namespace bitnet
