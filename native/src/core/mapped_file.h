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
  // macOS keeps the file open for release_pages (see mapped_file.cc); -1 elsewhere.
  int fd = -1;
};

// Maps the whole file. Throws bitnet::RangeError / Error (see core/errors.h) naming the path and
// the system's reason; an empty file maps to {nullptr, 0}.
MappedFile map_file(const std::string& path);
void unmap_file(const MappedFile& m);
// Gives the whole pages inside [offset, offset + length) of a mapping back to the system: the
// process stops holding them, and a later read loads them again from the file (a private write
// to them is dropped). Pages are 4 KiB on x86-64 Linux, 16 KiB on Apple Silicon (sysconf).
void release_pages(const MappedFile& m, size_t offset, size_t length);

}  // namespace bitnet
