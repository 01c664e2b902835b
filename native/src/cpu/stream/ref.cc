#include <cstring>

#include "cpu/stream/stream.h"

namespace bitnet {
namespace {

uint64_t read(const uint8_t* data, size_t bytes) {
  uint64_t acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    for (int j = 0; j < 4; ++j) acc[j] ^= w[j];
  }
  return acc[0] ^ acc[1] ^ acc[2] ^ acc[3] ^ xor_words(data, i, bytes);
}

}  // namespace

const StreamKernels kStreamScalar = {read};

}  // namespace bitnet
