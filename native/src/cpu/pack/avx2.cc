// The packing loops of impl.h compiled with AVX2 (the compiler vectorises them).
#include "cpu/pack/impl.h"

namespace bitnet {
namespace {

size_t pack(TernaryLayout layout, const int8_t* w, size_t n, size_t k, size_t r0, size_t r1, uint8_t* out) {
  return pack_impl::pack(kPackScalar, layout, w, n, k, r0, r1, out);
}

size_t unpack(TernaryLayout layout, const uint8_t* packed, size_t n, size_t k, size_t r0, size_t r1, int8_t* w) {
  return pack_impl::unpack(kPackScalar, layout, packed, n, k, r0, r1, w);
}

}  // namespace

const PackKernels kPackAvx2 = {pack, unpack};

}  // namespace bitnet
