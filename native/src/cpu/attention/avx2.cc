// The attention kernels compiled with this file's ISA flags (see impl.h).
#include "cpu/attention/impl.h"

namespace bitnet {

const AttentionKernels kAttentionAvx2 = {attention_impl::forward, attention_impl::backward, attention_impl::decode_f32,
                                       attention_impl::decode_f16};

}  // namespace bitnet
