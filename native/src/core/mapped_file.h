// Read-only files mapped into memory (POSIX mmap). The mapping is private and writable
// (copy-on-write): a stray write from JS lands in a private page instead of faulting on a
// read-only one, and the file itself is never modified.
#pragma once
#include <cstddef>
#include <string>

namespace bitnet {

struct MappedFile {
  void* data = nullptr;
  size_t bytes = 0;
};

// Maps the whole file. Throws bitnet::RangeError / Error (see core/errors.h) naming the path and
// the system's reason; an empty file maps to {nullptr, 0}.
MappedFile map_file(const std::string& path);
void unmap_file(const MappedFile& m);

}  // namespace bitnet
