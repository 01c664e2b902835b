// The attention kernels compiled for arm64 Advanced SIMD (see impl.h): the same plain loops and
// vector-extension tiles, which GCC and clang lower to NEON.
#include "cpu/attention/impl.h"

namespace bitnet {

const AttentionKernels kAttentionNeon = {attention_impl::forward, attention_impl::backward, attention_impl::decode_f32,
                                         attention_impl::decode_f16};

}  // namespace bitnet
