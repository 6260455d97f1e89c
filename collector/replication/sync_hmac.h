// Optional authentication between ctcollectd peers: an HMAC-SHA256 of each
// datagram appended to it (32 bytes), with a shared key read from a file.
// conntrackd has nothing of the kind: a conntrackd peer would see the tag
// as a malformed trailing message, so this is for ctcollectd pairs only.
//
// Thread safety: const members may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ctcollect {

class SyncHmac {
 public:
  static constexpr size_t kTagSize = 32;
  // Reads the key (the file's bytes, trailing newlines dropped; at least
  // 16 bytes). Throws ConfigError (start-up only).
  static SyncHmac FromFile(const std::string& path);
  explicit SyncHmac(std::string key) : key_(std::move(key)) {}

  // Appends the tag of `datagram` to it.
  void Sign(std::vector<uint8_t>* datagram) const;
  // True if the last 32 bytes are the tag of the rest; *len is then the
  // length without them. Constant-time comparison.
  bool Verify(const uint8_t* data, size_t* len) const;

 private:
  void Tag(const uint8_t* data, size_t len, uint8_t out[kTagSize]) const;
  std::string key_;
};

}  // namespace ctcollect
