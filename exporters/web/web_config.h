// The web config file of Prometheus exporters (exporter-toolkit format,
// YAML): TLS for the HTTP server and basic auth with bcrypt hashes.
//
//   tls_server_config:
//     cert_file: server.crt        # paths relative to this file
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: ca.crt
//     min_version: TLS12           # TLS10 TLS11 TLS12 (default) TLS13
//   basic_auth_users:
//     alice: $2y$10$...            # bcrypt
//   http_server_config:
//     headers: {X-Frame-Options: deny}   # added to every response
//
// Unknown keys and settings this server cannot honour are refused with a
// ConfigError naming the key (a silently ignored security setting is
// worse than none).
//
// Thread safety: parsing is pure; BasicAuth::Check may be called from any
// number of threads.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collector/base/mutex.h"

namespace ctcollect {

struct WebConfig {
  struct Tls {
    std::string cert_file, key_file;
    std::string client_auth_type = "NoClientCert";
    std::string client_ca_file;
    std::string min_version = "TLS12";
  };
  std::optional<Tls> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt
  std::map<std::string, std::string> headers;
};

// `base_dir` resolves relative paths; files named must be readable.
WebConfig ParseWebConfig(const std::string& yaml_text,
                         const std::string& base_dir);
WebConfig LoadWebConfig(const std::string& path);

// Basic auth against bcrypt hashes (crypt_r). Successful checks are cached
// (bcrypt costs tens of milliseconds, scrapers come every few seconds):
// exact user and password, compared in constant time, at most 256 entries.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users)
      : users_(std::move(users)) {}
  bool enabled() const { return !users_.empty(); }
  // `header` is the Authorization header's value ("" when absent).
  bool Check(const char* header);

 private:
  std::map<std::string, std::string> users_;
  Mutex mu_;
  std::set<std::string> verified_ GUARDED_BY(mu_);  // "user\0password"
};

// Decodes standard base64 (with padding); nullopt for anything else.
std::optional<std::string> DecodeBase64(const std::string& in);

}  // namespace ctcollect
