// Files mapped into memory, exposed as external ArrayBuffers: the loaders of large model files
// wrap tensors around views of the mapping instead of copying the weights. unmapFile() detaches
// the buffer (every JS view drops to length 0, so nothing can read unmapped memory) and unmaps at
// once; a mapping never released is unmapped by the GC finalizer.
#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/mapped_file.h"

namespace bitnet {
namespace binding {
namespace {

std::mutex g_mutex;
std::unordered_map<void*, MappedFile*>& live_mappings() {
  static auto* map = new std::unordered_map<void*, MappedFile*>();
  return *map;
}

void finalize(Napi::Env, void* data, MappedFile* m) {
  bool live = false;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = live_mappings().find(data);
    if (it != live_mappings().end() && it->second == m) {
      live_mappings().erase(it);
      live = true;
    }
  }
  if (live) unmap_file(*m);
  delete m;
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "mapFile(path)", 1);
    const std::string path = args.string(0, "path");
    if (path.empty()) args.range_error("path", "a non-empty path", "''");
    if (path.find('\0') != std::string::npos) args.range_error("path", "a path without NUL characters", "a string with a NUL");
    MappedFile mapped;
    try {
      mapped = map_file(path);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string("mapFile: ") + e.what());
    }
    if (mapped.bytes == 0) return Napi::ArrayBuffer::New(info.Env(), 0);
    auto* m = new MappedFile(mapped);
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      live_mappings()[m->data] = m;
    }
    // On failure Node has already run `finalize` (which unmaps), so there is nothing to undo.
    return Napi::ArrayBuffer::New(info.Env(), m->data, m->bytes, finalize, m);
  });
}

Napi::Value UnmapFile(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "unmapFile(buffer)", 1);
    Napi::ArrayBuffer buffer = args.array_buffer(0, "buffer");
    if (buffer.IsDetached() || buffer.ByteLength() == 0) return Napi::Boolean::New(info.Env(), false);
    MappedFile* m = nullptr;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      auto it = live_mappings().find(buffer.Data());
      if (it != live_mappings().end() && it->second->bytes == buffer.ByteLength()) {
        m = it->second;
        live_mappings().erase(it);
      }
    }
    if (m == nullptr) args.type_error("buffer", "an ArrayBuffer returned by mapFile()", buffer);
    buffer.Detach();
    unmap_file(*m);  // the finalizer later finds no record and only deletes `m`
    return Napi::Boolean::New(info.Env(), true);
  });
}

Napi::Value ReleaseMappedPages(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, "releaseMappedPages(buffer, byteOffset, byteLength)", 3);
    Napi::ArrayBuffer buffer = args.array_buffer(0, "buffer");
    const int64_t offset = args.integer(1, "byteOffset", 0, int64_t(1) << 52);
    const int64_t length = args.integer(2, "byteLength", 0, int64_t(1) << 52);
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = buffer.IsDetached() ? live_mappings().end() : live_mappings().find(buffer.Data());
    if (it == live_mappings().end() || it->second->bytes != buffer.ByteLength()) {
      args.type_error("buffer", "a live ArrayBuffer returned by mapFile()", buffer);
    }
    if (static_cast<uint64_t>(offset) + static_cast<uint64_t>(length) > it->second->bytes) {
      args.range_error("byteLength", "at most " + std::to_string(it->second->bytes - std::min<uint64_t>(offset, it->second->bytes)) +
                                         " (the mapping's " + std::to_string(it->second->bytes) + " bytes from byteOffset)",
                       std::to_string(length));
    }
    release_pages(*it->second, static_cast<size_t>(offset), static_cast<size_t>(length));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_mapped(Napi::Env env, Napi::Object exports) {
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("unmapFile", Napi::Function::New(env, UnmapFile, "unmapFile"));
  exports.Set("releaseMappedPages", Napi::Function::New(env, ReleaseMappedPages, "releaseMappedPages"));
}

namespace {
const BindingRegistration kRegistration(register_mapped);
}  // namespace

}  // namespace binding
}  // namespace bitnet
