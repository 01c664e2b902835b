#include <cstring>

#include "cpu/roofline/roofline.h"

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


// Eight independent int32 multiply-add chains; the asm barrier keeps the compiler from folding
// the loop-invariant products into one multiplication.
uint64_t int8_dot(uint64_t iterations) {
  int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t a = 3, b = -5;
  for (uint64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 8; ++j) {
      __asm__ volatile("" : "+r"(a));
      acc[j] += a * b;
    }
  }
  int32_t s = 0;
  for (int32_t v : acc) s += v;
  __asm__ volatile("" : : "r"(s));
  return iterations * 8 * 2;
}
}  // namespace

const RooflineKernels kRooflineScalar = {read, int8_dot};

}  // namespace bitnet
