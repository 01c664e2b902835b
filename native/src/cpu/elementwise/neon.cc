// The elementwise kernels compiled for arm64 Advanced SIMD (see impl.h): the same plain loops and
// vector-extension tiles, which GCC and clang lower to NEON.
#include "cpu/elementwise/impl.h"

namespace bitnet {

const ElementwiseKernels kElementwiseNeon = {elementwise_impl::map, elementwise_impl::dequantize, elementwise_impl::scale_codes,
                                           elementwise_impl::rope, elementwise_impl::adamw_update, elementwise_impl::sum_squares};

}  // namespace bitnet
