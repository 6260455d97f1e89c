// Reading a whole small file from /proc or a runtime directory without
// trusting its size: procfs files report 0, and a bundle may be anything.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

namespace ctcollect {

// Reads all of `path` into *out. More than `max_bytes` is refused with
// EFBIG (*out then holds the first max_bytes); open and read errors are
// returned as they are (ENOENT for a process that exited meanwhile).
std::error_code ReadFileBounded(const std::string& path, size_t max_bytes,
                                std::string* out);

}  // namespace ctcollect
