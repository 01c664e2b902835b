// The element-wise kernels compiled with this file's ISA flags (see impl.h).
#include "cpu/elementwise/impl.h"

namespace bitnet {

const ElementwiseKernels kElementwiseScalar = {elementwise_impl::map, elementwise_impl::dequantize, elementwise_impl::scale_codes, elementwise_impl::rope, elementwise_impl::adamw_update, elementwise_impl::sum_squares};

}  // namespace bitnet
