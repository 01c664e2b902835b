// The int8 dot roofline of the arm64 dot-product variants (neon_dotprod.cc: sdot, 16 int8
// multiply-adds an instruction; neon_i8mm.cc: smmla, 32): 12 independent chains of one
// instruction per round, in asm so that nothing is folded. Internal linkage: see core/registry.h.
#pragma once
#include "cpu/roofline/roofline.h"

namespace bitnet {
namespace {

// Runs `iterations` rounds of 12 `insn v<acc>.4s, v0.16b, v1.16b`; returns the operations done
// (macs_per_insn multiply-adds, 2 operations each).
#define BITNET_NEON_DOT_CHAINS(insn, macs_per_insn)                                                           \
  [](uint64_t iterations) -> uint64_t {                                                                       \
    uint64_t n = iterations;                                                                                  \
    if (n == 0) return 0;                                                                                     \
    __asm__ volatile("movi v0.16b, #3\n\tmovi v1.16b, #5\n\t"                                                 \
                     "1:\n\t" insn " v16.4s, v0.16b, v1.16b\n\t" insn " v17.4s, v0.16b, v1.16b\n\t" insn      \
                     " v18.4s, v0.16b, v1.16b\n\t" insn " v19.4s, v0.16b, v1.16b\n\t" insn                     \
                     " v20.4s, v0.16b, v1.16b\n\t" insn " v21.4s, v0.16b, v1.16b\n\t" insn                     \
                     " v22.4s, v0.16b, v1.16b\n\t" insn " v23.4s, v0.16b, v1.16b\n\t" insn                     \
                     " v24.4s, v0.16b, v1.16b\n\t" insn " v25.4s, v0.16b, v1.16b\n\t" insn                     \
                     " v26.4s, v0.16b, v1.16b\n\t" insn " v27.4s, v0.16b, v1.16b\n\t"                          \
                     "subs %0, %0, #1\n\tb.ne 1b"                                                             \
                     : "+r"(n)                                                                                \
                     :                                                                                        \
                     : "v0", "v1", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", \
                       "v27", "cc");                                                                          \
    return iterations * 12 * 2 * (macs_per_insn);                                                             \
  }

}  // namespace
}  // namespace bitnet
