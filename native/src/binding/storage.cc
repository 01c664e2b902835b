// Tensor storage crossing into JS: native-owned, 64-byte aligned memory exposed as external
// ArrayBuffers. dispose() detaches the buffer (every JS view of it drops to length 0) and frees
// the memory at once; a buffer that is never disposed is freed by its GC finalizer.
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/allocator.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

std::mutex g_mutex;
// Node refuses external buffers above buffer.constants.MAX_LENGTH (4 GiB on Node 20) and frees
// the memory through our finalizer when it does; the JS loader tells us the limit so that such
// requests are refused here, before Node sees them.
uint64_t g_buffer_limit = uint64_t(1) << 32;
std::unordered_map<void*, Allocation*>& live_buffers() {
  static auto* map = new std::unordered_map<void*, Allocation*>();
  return *map;
}

// V8 is told how much memory the allocator holds from the system, not how much is live: a
// training step allocates and frees ~300 MB of intermediates, and reporting each allocation as
// new external memory made V8 start a mark-compact every ~30 ms for "external memory pressure"
// (a quarter of the step time). Cached blocks are reused without changing this figure, so steady
// training reports nothing; tensors that are leaked rather than disposed still empty the cache,
// grow the figure and get V8 to collect them.
std::atomic<int64_t> g_reported{0};
void report_external(Napi::Env env) {
  const int64_t now = static_cast<int64_t>(system_allocation_bytes());
  const int64_t delta = now - g_reported.exchange(now);
  if (delta != 0) Napi::MemoryManagement::AdjustExternalMemory(env, delta);
}

// V8 also counts every external ArrayBuffer's length as external memory while the buffer is
// live (and reports it as "pressure" once 64 MB more than at the last mark-compact are held).
// A training step holds ~300 MB of activations for its backward pass, so that count alone started
// four mark-compacts per step. The memory is already in report_external's figure, so each
// buffer's share of V8's own count is taken back on creation and returned when the buffer goes
// (detached by free(), or swept and finalized): V8's count then stays flat across steps.
void offset_buffer_count(Napi::Env env, const Allocation* a, int sign) {
  Napi::MemoryManagement::AdjustExternalMemory(env, sign * static_cast<int64_t>(a->bytes));
}

void release_counted(Napi::Env env, Allocation* a) {
  if (a->freed) return;
  offset_buffer_count(env, a, +1);
  backend_for(Device::Cpu).release(a);
  report_external(env);
}

void finalize(Napi::Env env, void* data, Allocation* a) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = live_buffers().find(data);
    if (!a->freed && it != live_buffers().end() && it->second == a) live_buffers().erase(it);
  }
  release_counted(env, a);
  delete a;
}

// Zero-byte requests get an ordinary empty ArrayBuffer and no native memory: V8 does not keep
// the data pointer of an empty external buffer, so free() could not find its record. The tag
// lets free() recognise (and detach) these buffers without confusing them with foreign ones.
const napi_type_tag kEmptyBufferTag = {0x6269746e65746c61ull, 0x6230656d70747931ull};

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "alloc(byteLength, zero)", 2);
    const int64_t bytes = args.integer(0, "byteLength", 0, static_cast<int64_t>(kMaxAllocationBytes));
    const bool zero = args.boolean(1, "zero");
    if (static_cast<uint64_t>(bytes) > g_buffer_limit) {
      args.range_error("byteLength", "at most " + std::to_string(g_buffer_limit) +
                                         " (the largest single buffer this Node.js allows)",
                       std::to_string(bytes));
    }
    if (bytes == 0) {
      Napi::ArrayBuffer empty = Napi::ArrayBuffer::New(info.Env(), 0);
      empty.TypeTag(&kEmptyBufferTag);
      return empty;
    }
    Allocation* a = backend_for(Device::Cpu).allocate(static_cast<size_t>(bytes), zero);
    if (a == nullptr) {
      throw Napi::RangeError::New(info.Env(), "alloc: could not allocate " + std::to_string(bytes) +
                                                  " bytes of tensor storage (argument 'byteLength'): out of memory");
    }
    // Before New: on failure Node has already run `finalize` (which frees `a` and returns the
    // offset), so there is nothing to undo.
    offset_buffer_count(info.Env(), a, -1);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), a->data, a->bytes, finalize, a);
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      live_buffers()[a->data] = a;
    }
    report_external(info.Env());
    return buffer;
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "free(buffer)", 1);
    Napi::ArrayBuffer buffer = args.array_buffer(0, "buffer");
    if (buffer.IsDetached()) return Napi::Boolean::New(info.Env(), false);
    const char* expected = "an ArrayBuffer allocated by bitnet-lab's alloc()";
    if (buffer.ByteLength() == 0) {
      if (!buffer.CheckTypeTag(&kEmptyBufferTag)) args.type_error("buffer", expected, buffer);
      buffer.Detach();
      return Napi::Boolean::New(info.Env(), true);
    }
    void* data = buffer.Data();
    Allocation* a = nullptr;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      auto it = live_buffers().find(data);
      if (it != live_buffers().end() && it->second->bytes == buffer.ByteLength()) {
        a = it->second;
        live_buffers().erase(it);
      }
    }
    if (a == nullptr) args.type_error("buffer", expected, buffer);
    // Detach first: once no JS view can reach the memory it is safe to free it now, long before
    // the GC would run the finalizer (which then finds the record marked freed).
    buffer.Detach();
    release_counted(info.Env(), a);
    return Napi::Boolean::New(info.Env(), true);
  });
}

Napi::Value AlignmentOf(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "alignmentOf(view)", 1);
    const char* expected = "an ArrayBuffer, a typed array or a DataView over memory that is still live (not freed)";
    Napi::Value v = info[0];
    void* data = nullptr;
    if (v.IsArrayBuffer()) {
      data = v.As<Napi::ArrayBuffer>().Data();
    } else if (v.IsTypedArray()) {
      if (napi_get_typedarray_info(info.Env(), v, nullptr, nullptr, &data, nullptr, nullptr) != napi_ok) {
        throw Napi::Error::New(info.Env());
      }
    } else if (v.IsDataView()) {
      if (napi_get_dataview_info(info.Env(), v, nullptr, &data, nullptr, nullptr) != napi_ok) {
        throw Napi::Error::New(info.Env());
      }
    } else {
      args.type_error("view", expected, v);
    }
    if (is_detached(v)) args.type_error("view", expected, v);
    // Empty buffers may have no address at all; any alignment is then as good as another.
    const uintptr_t address = reinterpret_cast<uintptr_t>(data);
    uintptr_t alignment = 1;
    while (alignment < 4096 && address % (alignment * 2) == 0) alignment *= 2;
    return Napi::Number::New(info.Env(), static_cast<double>(alignment));
  });
}

Napi::Value SetBufferLimit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "setBufferLimit(byteLength)", 1);
    g_buffer_limit = static_cast<uint64_t>(args.integer(0, "byteLength", 0, int64_t(1) << 53));
    return info.Env().Undefined();
  });
}

Napi::Value NativeMemory(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "nativeMemory()", 0);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(live_allocation_bytes())));
    o.Set("cachedBytes", Napi::Number::New(info.Env(), static_cast<double>(cached_allocation_bytes())));
    o.Set("liveAllocations", Napi::Number::New(info.Env(), static_cast<double>(live_allocation_count())));
    return o;
  });
}

}  // namespace

void register_storage(Napi::Env env, Napi::Object exports) {
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("alignmentOf", Napi::Function::New(env, AlignmentOf, "alignmentOf"));
  exports.Set("setBufferLimit", Napi::Function::New(env, SetBufferLimit, "setBufferLimit"));
  exports.Set("nativeMemory", Napi::Function::New(env, NativeMemory, "nativeMemory"));
}

namespace {
const BindingRegistration kRegistration(register_storage);
}  // namespace

}  // namespace binding
}  // namespace bitnet
