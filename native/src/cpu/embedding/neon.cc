// The embedding kernels compiled with this file's ISA flags (see impl.h).
#include "cpu/embedding/impl.h"

namespace bitnet {

const EmbeddingKernels kEmbeddingNeon = {embedding_impl::gather, embedding_impl::scatter_add};

}  // namespace bitnet
