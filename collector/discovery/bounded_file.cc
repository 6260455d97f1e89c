#include "collector/discovery/bounded_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ctcollect {

std::error_code ReadFileBounded(const std::string& path, size_t max_bytes,
                                std::string* out) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return {errno, std::system_category()};
  std::error_code ec;
  char buf[16384];
  while (true) {
    // One byte beyond the cap tells "exactly max" from "more".
    size_t want = std::min(sizeof(buf), max_bytes + 1 - out->size());
    ssize_t n = read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = {errno, std::system_category()};
      break;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > max_bytes) {
      out->resize(max_bytes);
      ec = std::make_error_code(std::errc::file_too_large);
      break;
    }
  }
  close(fd);
  return ec;
}

}  // namespace ctcollect
