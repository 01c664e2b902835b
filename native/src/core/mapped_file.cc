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
  ::close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) throw std::runtime_error("cannot map '" + path + "': " + std::strerror(err));
  m.data = p;
  return m;
}

void release_pages(const MappedFile& m, size_t offset, size_t length) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = (offset + page - 1) / page * page;
  const size_t end = (offset + length) / page * page;
  if (m.data == nullptr || end <= begin || end > m.bytes) return;
  ::madvise(static_cast<char*>(m.data) + begin, end - begin, MADV_DONTNEED);
}

void unmap_file(const MappedFile& m) {
  if (m.data != nullptr) ::munmap(m.data, m.bytes);
}

}  // namespace bitnet
