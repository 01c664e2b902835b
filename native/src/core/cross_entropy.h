// The rows of one softmax cross-entropy call, shared by the backend interface and the kernels.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitnet {

// Rows of a softmax cross-entropy: logits [rows, classes], one target class per row; a row whose
// target equals `ignore` (when has_ignore) has no loss and no gradient.
struct CrossEntropyRows {
  const float* logits;
  const int32_t* targets;
  size_t classes;
  bool has_ignore;
  int64_t ignore;
  bool ignored(size_t r) const { return has_ignore && targets[r] == ignore; }
};

}  // namespace bitnet
