// Roofline with the dot-product extension: the read is Advanced SIMD's (neon.cc); the int8 dot is
// sdot chains (neon_chain.h).
#include "cpu/roofline/neon_chain.h"

namespace bitnet {

const RooflineKernels kRooflineNeonDotprod = {kRooflineNeon.read, BITNET_NEON_DOT_CHAINS("sdot", 16)};

}  // namespace bitnet
