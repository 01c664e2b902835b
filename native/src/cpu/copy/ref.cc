// The scalar reference: every row on its own (impl.h).
#include "cpu/copy/impl.h"

namespace bitnet {

const CopyKernels kCopyScalar = {copy_impl::copy_rows_plain};

}  // namespace bitnet
