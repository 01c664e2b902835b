// Instruction-set levels a kernel variant can be compiled for, and the process-wide ceiling
// that BITNET_ISA or setIsa() imposes on dispatch.
#pragma once
#include <string>

namespace bitnet {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

const char* isa_name(Isa isa);
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
// Whether a variant compiled for `variant` may run under the ceiling `ceiling`.
bool isa_allows(Isa ceiling, Isa variant);

}  // namespace bitnet
