// Kernel family "copy": N-d strided copy (permute/transpose/slice made contiguous, concat into a
// strided destination). Contiguous rows are a memcpy (which the C library vectorises); the
// variants transpose tiles in registers where the source is strided in its last dimension
// (impl.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/registry.h"
#include "core/strided.h"

namespace bitnet {

struct CopyKernels {
  // Copies the rows [row_begin, row_end) of the copy viewed as (prod(shape[:-1]), shape[-1]).
  void (*copy_rows)(const StridedCopy& c, size_t row_begin, size_t row_end);
};

extern const CopyKernels kCopyScalar;
extern const CopyKernels kCopyAvx2;
extern const CopyKernels kCopyNeon;
const KernelFamily<CopyKernels>& copy_family();

}  // namespace bitnet
