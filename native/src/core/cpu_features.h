// What the CPU we are running on can do, detected once (cpuid + xgetbv on x86, getauxval /
// sysctl on arm64). Kernels never query this directly; dispatch does.
#pragma once
#include <string>

namespace bitnet {

struct CpuFeatures {
  std::string model;
  std::string arch;
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
  bool avxvnni = false;  // VEX-encoded vpdpbusd (Alder Lake, Sapphire Rapids, Zen 5)
  bool neon = false, dotprod = false, i8mm = false;
  int logical_cores = 1;
  // Cores the thread pool uses by default: the performance cores on Apple Silicon (efficiency
  // cores would make every statically split job wait for its slowest chunk), else all of them.
  int default_threads = 1;
};

const CpuFeatures& cpu_features();

}  // namespace bitnet
