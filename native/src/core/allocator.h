// Tensor storage allocations: 64-byte aligned, optionally zeroed, with live-byte accounting.
// The record outlives the memory so that a JS finalizer arriving after an explicit free is safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitnet {

constexpr size_t kStorageAlignment = 64;
// Largest single allocation we attempt; larger requests are a RangeError, not an OOM kill.
constexpr uint64_t kMaxAllocationBytes = 1ull << 40;

struct Allocation {
  void* base = nullptr;  // what malloc/calloc returned
  void* data = nullptr;  // base rounded up to kStorageAlignment
  size_t bytes = 0;
  bool freed = false;
};

// Returns nullptr when the system cannot provide the memory.
Allocation* allocate(size_t bytes, bool zero);
// Frees the memory (idempotent); the record stays valid until destroy_record().
void release(Allocation* a);
void destroy_record(Allocation* a);

uint64_t live_allocation_bytes();
uint64_t live_allocation_count();
// Bytes held from the system: live allocations and the cache, with padding. This, not the live
// bytes, is what V8 is told about (see binding/storage.cc).
uint64_t system_allocation_bytes();
// Freed blocks kept for reuse (up to 1 GiB, by exact size), and a way to give them back.
uint64_t cached_allocation_bytes();
void release_cached_memory();

}  // namespace bitnet
