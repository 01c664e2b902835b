#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace bitnet {
namespace {
std::atomic<uint64_t> g_live_bytes{0};
std::atomic<uint64_t> g_live_count{0};
}  // namespace

Allocation* allocate(size_t bytes, bool zero) {
  if (bytes > kMaxAllocationBytes) return nullptr;
  // calloc lets large zeroed requests come straight from fresh (already zero) pages.
  size_t padded = bytes + kStorageAlignment;
  void* base = zero ? std::calloc(1, padded) : std::malloc(padded);
  if (base == nullptr) return nullptr;
  Allocation* a = new (std::nothrow) Allocation();
  if (a == nullptr) {
    std::free(base);
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
  std::free(a->base);
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

}  // namespace bitnet
