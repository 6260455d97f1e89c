// Reads a capture of tests/testdata (netlink messages back to back, see
// its README) into 8-byte-aligned memory, as recv() would have filled a
// netlink buffer. For tests only.
//
// Thread safety: test helpers, for one test thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ctcollect::testing {

// The file's bytes (its length in *size); empty if it cannot be read.
inline std::vector<uint64_t> ReadCapture(const std::string& name,
                                         size_t* size) {
  std::ifstream f(std::string(CTCOLLECT_TESTDATA) + "/" + name,
                  std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  std::vector<uint64_t> buf(bytes.size() / 8 + 1);
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  *size = bytes.size();
  return buf;
}

}  // namespace ctcollect::testing
