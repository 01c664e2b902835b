// Scalar reference: float formats accumulate in double and round once (a float64 reference the
// vector variant is tested against within a tolerance); int8 is exact.
#include <cstring>

#include "cpu/dense/dense.h"

namespace bitnet {
namespace {

inline float f16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  float f;
  if (exp == 0) {
    // Subnormal (or zero): man * 2^-24, exact in float.
    f = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class W, class Load>
void rows_float(const float* x, size_t m, size_t k, const W* w, size_t n0, size_t n1, float* out, size_t ldo, Load load) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = n0; j < n1; ++j) {
      double acc = 0;
      for (size_t c = 0; c < k; ++c) acc += static_cast<double>(x[i * k + c]) * static_cast<double>(load(w[j * k + c]));
      out[i * ldo + j] = static_cast<float>(acc);
    }
  }
}

void f32(const float* x, size_t m, size_t k, const float* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, w, n0, n1, out, ldo, [](float v) { return v; });
}
void f16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, w, n0, n1, out, ldo, f16_to_float);
}
void bf16(const float* x, size_t m, size_t k, const uint16_t* w, size_t n0, size_t n1, float* out, size_t ldo) {
  rows_float(x, m, k, w, n0, n1, out, ldo, bf16_to_float);
}
void i8(const int8_t* x, size_t m, size_t k, const int8_t* w, size_t n0, size_t n1, int32_t* out, size_t ldo) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = n0; j < n1; ++j) {
      int32_t acc = 0;
      for (size_t c = 0; c < k; ++c) acc += static_cast<int32_t>(x[i * k + c]) * static_cast<int32_t>(w[j * k + c]);
      out[i * ldo + j] = acc;
    }
  }
}

}  // namespace

const DenseKernels kDenseScalar = {f32, f16, bf16, i8};

}  // namespace bitnet
