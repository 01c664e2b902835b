#include "core/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bitnet {

MappedFile map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error("'" + path + "' is not a regular file");
  }
  MappedFile m;
  m.bytes = static_cast<size_t>(st.st_size);
  if (m.bytes == 0) {
    ::close(fd);
    return m;
  }
  void* p = ::mmap(nullptr, m.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int err = errno;
  if (p == MAP_FAILED) {
    ::close(fd);
    throw std::runtime_error("cannot map '" + path + "': " + std::strerror(err));
  }
#if defined(__APPLE__)
  m.fd = fd;  // release_pages maps page ranges of the file again
#else
  ::close(fd);  // the mapping keeps the file referenced
#endif
  m.data = p;
  return m;
}

void release_pages(const MappedFile& m, size_t offset, size_t length) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = (offset + page - 1) / page * page;
  const size_t end = (offset + length) / page * page;
  if (m.data == nullptr || end <= begin || end > m.bytes) return;
  char* at = static_cast<char*>(m.data) + begin;
#if defined(__APPLE__)
  // On macOS MADV_DONTNEED and MADV_FREE are hints: the pages stay resident (and counted) until
  // the system needs them, and MADV_FREE_REUSABLE is for anonymous memory. Mapping the same file
  // range again over them (MAP_FIXED) drops the old pages at once; a later read faults them in
  // from the file, as after Linux's MADV_DONTNEED.
  if (m.fd >= 0 &&
      ::mmap(at, end - begin, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, m.fd, static_cast<off_t>(begin)) != MAP_FAILED) {
    return;
  }
#endif
  // Linux: on a private file mapping the pages are dropped at once and read again from the file.
  ::madvise(at, end - begin, MADV_DONTNEED);
}

void unmap_file(const MappedFile& m) {
  if (m.data != nullptr) ::munmap(m.data, m.bytes);
  if (m.fd >= 0) ::close(m.fd);
}

}  // namespace bitnet
