// Roofline with the int8 matrix-multiply extension: the read is Advanced SIMD's (neon.cc); the int8
// dot is smmla chains (neon_chain.h: a 2 x 8 by 8 x 2 tile, 32 multiply-adds an instruction).
#include "cpu/roofline/neon_chain.h"

namespace bitnet {

const RooflineKernels kRooflineNeonI8mm = {kRooflineNeon.read, BITNET_NEON_DOT_CHAINS("smmla", 32)};

}  // namespace bitnet
