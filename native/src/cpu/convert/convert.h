// Kernel family "convert": f32 <-> f16 / bf16 with round-to-nearest-even. Every variant must
// produce the same bits as the scalar reference for every input, NaN payloads included.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/registry.h"

namespace bitnet {

struct ConvertKernels {
  void (*f32_to_f16)(const float* in, uint16_t* out, size_t n);
  void (*f16_to_f32)(const uint16_t* in, float* out, size_t n);
  void (*f32_to_bf16)(const float* in, uint16_t* out, size_t n);
  void (*bf16_to_f32)(const uint16_t* in, float* out, size_t n);
};

extern const ConvertKernels kConvertScalar;
extern const ConvertKernels kConvertAvx2;
extern const ConvertKernels kConvertAvx512;
extern const ConvertKernels kConvertNeon;

const KernelFamily<ConvertKernels>& convert_family();

// Single-element reference conversions, shared by the variants for their tails.
static inline uint32_t f32_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
static inline float f32_from_bits(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

static inline uint16_t f32_to_f16_one(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  // NaN stays NaN, quieted, with the top payload bits kept (what F16C and NEON do).
  if (ax > 0x7f800000u) return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
  // 65520 is halfway between 65504 (odd mantissa) and 65536: ties-to-even goes to infinity.
  if (ax >= 0x477ff000u) return sign | 0x7c00u;
  if (ax < 0x38800000u) {  // below 2^-14: half subnormal or zero
    if (ax < 0x33000000u) return sign;  // below 2^-25 rounds to zero (2^-25 itself ties to 0)
    const uint32_t e = ax >> 23;
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = ax - (112u << 23);
  r = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
  return static_cast<uint16_t>(sign | r);
}

static inline float f16_to_f32_one(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  if (e == 0x1f) return f32_from_bits(sign | 0x7f800000u | (m ? (0x400000u | (m << 13)) : 0u));
  if (e == 0) {
    if (m == 0) return f32_from_bits(sign);
    e = 1;
    while (!(m & 0x400u)) {
      m <<= 1;
      --e;
    }
    m &= 0x3ffu;
  }
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

static inline uint16_t f32_to_bf16_one(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

static inline float bf16_to_f32_one(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

}  // namespace bitnet
