#include "collector/replication/sync_hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

#include "collector/base/config_error.h"

namespace ctcollect {

SyncHmac SyncHmac::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("--sync.hmac-key-file: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
    key.pop_back();
  }
  if (key.size() < 16) {
    throw ConfigError("--sync.hmac-key-file: " + path +
                      ": the key must have at least 16 bytes");
  }
  return SyncHmac(std::move(key));
}

void SyncHmac::Tag(const uint8_t* data, size_t len,
                   uint8_t out[kTagSize]) const {
  unsigned int n = kTagSize;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), data, len, out,
       &n);
}

void SyncHmac::Sign(std::vector<uint8_t>* datagram) const {
  uint8_t tag[kTagSize];
  Tag(datagram->data(), datagram->size(), tag);
  datagram->insert(datagram->end(), tag, tag + kTagSize);
}

bool SyncHmac::Verify(const uint8_t* data, size_t* len) const {
  if (*len < kTagSize) return false;
  const size_t body = *len - kTagSize;
  uint8_t tag[kTagSize];
  Tag(data, body, tag);
  if (CRYPTO_memcmp(tag, data + body, kTagSize) != 0) return false;
  *len = body;
  return true;
}

}  // namespace ctcollect
