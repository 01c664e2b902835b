// The norm kernels compiled for arm64 Advanced SIMD (see impl.h): the same plain loops and
// vector-extension tiles, which GCC and clang lower to NEON.
#include "cpu/norm/impl.h"

namespace bitnet {

const NormKernels kNormNeon = {norm_impl::rms_forward, norm_impl::rms_backward, norm_impl::xent_forward, norm_impl::softmax_weights,
                            norm_impl::xent_backward};

}  // namespace bitnet
