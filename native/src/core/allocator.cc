#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace bitnet {
namespace {
std::atomic<uint64_t> g_live_bytes{0};
std::atomic<uint64_t> g_live_count{0};
// Bytes currently held from the system (live blocks plus the cache), padding included.
std::atomic<uint64_t> g_system_bytes{0};

void free_block(void* base, size_t padded) {
  std::free(base);
  g_system_bytes.fetch_sub(padded);
}

// A cache of freed blocks by exact padded size. A training step allocates the same shapes every
// step; handing malloc the memory back made glibc return it to the OS (trim or munmap) and every
// step paid page faults and kernel page clearing for its intermediates again (~5% of a step).
constexpr size_t kCacheMinBytes = 64 * 1024;
constexpr uint64_t kCacheCapBytes = 1ull << 30;
struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> blocks;
  uint64_t bytes = 0;
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: finalizers may run during teardown
  return *c;
}

// The sanitizer build frees at once, so AddressSanitizer still sees every use after free.
#ifdef BITNET_SANITIZED
constexpr bool kCacheEnabled = false;
#else
constexpr bool kCacheEnabled = true;
#endif

void* take_cached(size_t padded) {
  if (!kCacheEnabled || padded < kCacheMinBytes) return nullptr;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.blocks.find(padded);
  if (it == c.blocks.end() || it->second.empty()) return nullptr;
  void* p = it->second.back();
  it->second.pop_back();
  c.bytes -= padded;
  return p;
}

bool give_cached(void* base, size_t padded) {
  if (!kCacheEnabled || padded < kCacheMinBytes) return false;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.bytes + padded > kCacheCapBytes) return false;
  c.blocks[padded].push_back(base);
  c.bytes += padded;
  return true;
}
}  // namespace

uint64_t cached_allocation_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

void release_cached_memory() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, list] : c.blocks)
    for (void* p : list) free_block(p, size);
  c.blocks.clear();
  c.bytes = 0;
}

Allocation* allocate(size_t bytes, bool zero) {
  if (bytes > kMaxAllocationBytes) return nullptr;
  size_t padded = bytes + kStorageAlignment;
  void* base = take_cached(padded);
  if (base != nullptr) {
    if (zero) std::memset(base, 0, padded);
  } else {
    // calloc lets large zeroed requests come straight from fresh (already zero) pages.
    base = zero ? std::calloc(1, padded) : std::malloc(padded);
    if (base == nullptr) {
      // The cache may hold what the system cannot give: return it and try once more.
      release_cached_memory();
      base = zero ? std::calloc(1, padded) : std::malloc(padded);
    }
    if (base != nullptr) g_system_bytes.fetch_add(padded);
  }
  if (base == nullptr) return nullptr;
  Allocation* a = new (std::nothrow) Allocation();
  if (a == nullptr) {
    free_block(base, padded);
    return nullptr;
  }
  uintptr_t p = reinterpret_cast<uintptr_t>(base);
  p = (p + kStorageAlignment - 1) & ~static_cast<uintptr_t>(kStorageAlignment - 1);
  a->base = base;
  a->data = reinterpret_cast<void*>(p);
  a->bytes = bytes;
  g_live_bytes.fetch_add(bytes);
  g_live_count.fetch_add(1);
  return a;
}

void release(Allocation* a) {
  if (a == nullptr || a->freed) return;
  if (!give_cached(a->base, a->bytes + kStorageAlignment)) free_block(a->base, a->bytes + kStorageAlignment);
  a->freed = true;
  a->base = a->data = nullptr;
  g_live_bytes.fetch_sub(a->bytes);
  g_live_count.fetch_sub(1);
}

void destroy_record(Allocation* a) {
  release(a);
  delete a;
}

uint64_t live_allocation_bytes() { return g_live_bytes.load(); }
uint64_t live_allocation_count() { return g_live_count.load(); }
uint64_t system_allocation_bytes() { return g_system_bytes.load(); }

}  // namespace bitnet
