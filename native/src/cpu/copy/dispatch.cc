#include "cpu/copy/copy.h"

namespace bitnet {

const KernelFamily<CopyKernels>& copy_family() {
  static const KernelFamily<CopyKernels> family("copy", {{Isa::Scalar, &kCopyScalar}});
  return family;
}

}  // namespace bitnet
