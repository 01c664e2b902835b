// The norm kernels compiled with this file's ISA flags (see impl.h).
#include "cpu/norm/impl.h"

namespace bitnet {

const NormKernels kNormScalar = {norm_impl::rms_forward, norm_impl::rms_backward, norm_impl::xent_forward, norm_impl::softmax_weights,
                                 norm_impl::xent_backward};

}  // namespace bitnet
