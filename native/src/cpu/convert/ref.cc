#include "cpu/convert/convert.h"

namespace bitnet {
namespace {

void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = f32_to_f16_one(in[i]);
}
void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32_one(in[i]);
}
void f32_to_bf16(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16_one(in[i]);
}
void bf16_to_f32(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32_one(in[i]);
}

}  // namespace

const ConvertKernels kConvertScalar = {f32_to_f16, f16_to_f32, f32_to_bf16, bf16_to_f32};

}  // namespace bitnet
