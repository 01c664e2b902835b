// Kernel family "copy": N-d strided copy (permute/transpose/slice made contiguous, concat into a
// strided destination). Pure data movement, so only the scalar reference exists: its contiguous
// inner loop is a memcpy that the C library already vectorises.
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
const KernelFamily<CopyKernels>& copy_family();

}  // namespace bitnet
