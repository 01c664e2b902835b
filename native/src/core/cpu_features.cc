#include "core/cpu_features.h"

#include <cstring>
#include <thread>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define BITNET_ARCH_X86 1
#endif
#if defined(__aarch64__)
#define BITNET_ARCH_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace bitnet {
namespace {

#if BITNET_ARCH_X86
unsigned long long xgetbv0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

void detect_x86(CpuFeatures& f) {
  f.arch = "x86_64";
  unsigned int a, b, c, d;
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    char brand[49] = {0};
    for (unsigned int i = 0; i < 3; ++i) {
      __get_cpuid(0x80000002 + i, &a, &b, &c, &d);
      std::memcpy(brand + 16 * i, &a, 4);
      std::memcpy(brand + 16 * i + 4, &b, 4);
      std::memcpy(brand + 16 * i + 8, &c, 4);
      std::memcpy(brand + 16 * i + 12, &d, 4);
    }
    f.model = brand;
    while (!f.model.empty() && f.model.back() == ' ') f.model.pop_back();
  }
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  const bool osxsave = c & (1u << 27);
  const bool fma = c & (1u << 12), f16c = c & (1u << 29);
  // The OS must save YMM (bits 1,2) and for AVX-512 also opmask/ZMM state (bits 5,6,7).
  const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
  f.avx2 = os_ymm && (b & (1u << 5));
  f.fma = os_ymm && fma;
  f.f16c = os_ymm && f16c;
  f.avx512f = os_zmm && (b & (1u << 16));
  f.avx512dq = os_zmm && (b & (1u << 17));
  f.avx512bw = os_zmm && (b & (1u << 30));
  f.avx512vl = os_zmm && (b & (1u << 31));
  f.avx512vnni = os_zmm && (c & (1u << 11));
  unsigned int a1, b1, c1, d1;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) {
    f.avxvnni = os_ymm && (a1 & (1u << 4));
    f.avx512bf16 = os_zmm && (a1 & (1u << 5));
  }
}
#endif

#if defined(__APPLE__)
// A sysctl integer flag; false when the name does not exist (an older macOS that predates it).
bool sysctl_flag(const char* name) {
  int v = 0;
  size_t len = sizeof(v);
  return sysctlbyname(name, &v, &len, nullptr, 0) == 0 && v != 0;
}
#endif

#if BITNET_ARCH_ARM64
void detect_arm64(CpuFeatures& f) {
  f.arch = "arm64";
  f.neon = true;
#if defined(__linux__)
  // The bits are part of the kernel's ABI; older headers may lack the names.
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.dotprod = hw & (1ul << 20);  // HWCAP_ASIMDDP
  f.i8mm = hw2 & (1ul << 13);    // HWCAP2_I8MM
  f.model = "arm64";
#elif defined(__APPLE__)
  f.dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
  char brand[128] = {0};
  size_t len = sizeof(brand) - 1;
  if (sysctlbyname("machdep.cpu.brand_string", brand, &len, nullptr, 0) == 0) f.model = brand;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if BITNET_ARCH_X86
  detect_x86(f);
#elif BITNET_ARCH_ARM64
  detect_arm64(f);
#else
  f.arch = "unknown";
#endif
  if (f.model.empty()) f.model = "unknown";
  unsigned int n = std::thread::hardware_concurrency();
  f.logical_cores = n == 0 ? 1 : static_cast<int>(n);
  f.default_threads = f.logical_cores;
#if defined(__APPLE__)
  // Performance level 0 is the fastest cluster (P-cores); absent on Intel Macs.
  int perf = 0;
  size_t len = sizeof(perf);
  if (sysctlbyname("hw.perflevel0.physicalcpu", &perf, &len, nullptr, 0) == 0 && perf > 0 && perf < f.logical_cores) {
    f.default_threads = perf;
  }
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace bitnet
