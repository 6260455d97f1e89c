// Test certificates: a CA, a server certificate for 127.0.0.1 and a
// client certificate made by the openssl CLI, and a bcrypt password hash,
// in a temporary directory deleted at the end.
//
// Thread safety: one thread owns a Pki.
#pragma once

#include <string>

namespace ctcollect::itest {

class Pki {
 public:
  Pki();
  ~Pki();
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string path(const std::string& f) const { return dir_ + "/" + f; }
  const std::string& hash() const { return hash_; }
  // Writes a web config named `name` here; returns its path.
  std::string WebConfig(const std::string& name, const std::string& text);
  // A web config that serves TLS with the server certificate, and nothing
  // else; its path.
  std::string TlsWebConfig();

 private:
  std::string dir_, error_, hash_;
  bool ok_ = false;
};

}  // namespace ctcollect::itest
