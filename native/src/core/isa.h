// Instruction-set levels a kernel variant can be compiled for, and the process-wide ceiling
// that BITNET_ISA or setIsa() imposes on dispatch.
//
// Levels form one chain per architecture, each implying the ones below it:
//   x86-64: scalar < avx2 (AVX2+FMA+F16C) < avxvnni (+ VEX vpdpbusd) < avx512 (F/BW/VL/DQ/VNNI/BF16)
//   arm64:  scalar < neon (ARMv8.0 Advanced SIMD) < neon-dotprod (sdot) < neon-i8mm (usdot, smmla)
// A CPU can have a level without the one below it (Zen 4 has AVX-512 VNNI but not AVX-VNNI); a
// family then skips the variant the CPU lacks and takes the best one below the ceiling.
#pragma once
#include <string>
#include <vector>

namespace bitnet {

enum class Isa { Scalar = 0, Avx2, AvxVnni, Avx512, Neon, NeonDotprod, NeonI8mm };

const char* isa_name(Isa isa);
// Every ISA name, in enum order (what setIsa and BITNET_ISA accept, besides "auto").
const std::vector<Isa>& all_isas();
// Returns false when `name` is not an ISA name.
bool parse_isa(const std::string& name, Isa* out);
// Whether this CPU can run code of `isa` and the addon was built with it.
bool isa_supported(Isa isa);
// The best ISA this CPU and build support.
Isa best_isa();
// The ceiling kernels dispatch under: best_isa() unless forced by BITNET_ISA or set_isa().
Isa active_isa();
// Throws bitnet::RangeError when the ISA is not supported here.
void set_isa(Isa isa);
// Whether a variant compiled for `variant` may run under the ceiling `ceiling`: scalar always,
// otherwise the same architecture and a level no higher than the ceiling's.
bool isa_allows(Isa ceiling, Isa variant);
// The compiler flags the variants of `isa` were built with ("" for scalar or when not built).
const char* isa_flags(Isa isa);

}  // namespace bitnet
