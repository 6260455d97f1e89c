#include "exporters/web/web_config.h"

#include <crypt.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "collector/base/config_error.h"

namespace ctcollect {
namespace {

[[noreturn]] void Bad(const std::string& key, const std::string& why) {
  throw ConfigError("web config: " + key + ": " + why);
}

std::string Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Bad(key, "expected a single value");
  return n.Scalar();
}

std::string Resolve(const std::string& base_dir, const std::string& path,
                    const std::string& key) {
  if (path.empty()) Bad(key, "empty path");
  std::string full =
      path.front() == '/' || base_dir.empty() ? path : base_dir + "/" + path;
  std::ifstream in(full);
  if (!in) Bad(key, "cannot read " + full);
  return full;
}

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return d == 0;
}

}  // namespace

std::optional<std::string> DecodeBase64(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = value(c)) < 0) {
        return std::nullopt;
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

WebConfig ParseWebConfig(const std::string& yaml_text,
                         const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("web config: line " + std::to_string(e.mark.line + 1) +
                      ": " + e.msg);
  }
  WebConfig c;
  if (root.IsNull()) return c;
  if (!root.IsMap()) Bad("(top level)", "expected a map");
  try {
    for (const auto& kv : root) {
      std::string key = Scalar(kv.first, "(key)");
      const YAML::Node& v = kv.second;
      if (key == "tls_server_config") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) Bad(key, "expected a map");
        WebConfig::Tls t;
        for (const auto& f : v) {
          std::string k = Scalar(f.first, key);
          std::string path = key + "." + k;
          std::string val = Scalar(f.second, path);
          if (k == "cert_file") {
            t.cert_file = Resolve(base_dir, val, path);
          } else if (k == "key_file") {
            t.key_file = Resolve(base_dir, val, path);
          } else if (k == "client_ca_file") {
            t.client_ca_file = Resolve(base_dir, val, path);
          } else if (k == "client_auth_type") {
            if (val != "NoClientCert" && val != "VerifyClientCertIfGiven" &&
                val != "RequireAndVerifyClientCert") {
              Bad(path,
                  val == "RequestClientCert" || val == "RequireAnyClientCert"
                      ? val +
                            " is not supported by this server (use "
                            "VerifyClientCertIfGiven or "
                            "RequireAndVerifyClientCert)"
                      : "unknown value " + val);
            }
            t.client_auth_type = val;
          } else if (k == "min_version") {
            if (val != "TLS10" && val != "TLS11" && val != "TLS12" &&
                val != "TLS13") {
              Bad(path, "TLS10, TLS11, TLS12 or TLS13");
            }
            t.min_version = val;
          } else if (k == "max_version") {
            if (val != "TLS13") {
              Bad(path, "only TLS13 (the highest) is supported");
            }
          } else if (k == "cipher_suites" || k == "curve_preferences" ||
                     k == "prefer_server_cipher_suites") {
            Bad(path, "not supported by this server; leave it out");
          } else {
            Bad(path, "unknown key");
          }
        }
        if (t.cert_file.empty() || t.key_file.empty()) {
          Bad(key, "cert_file and key_file are required");
        }
        if (t.client_auth_type != "NoClientCert" && t.client_ca_file.empty()) {
          Bad(key + ".client_ca_file",
              "required with client_auth_type " + t.client_auth_type);
        }
        c.tls = t;
      } else if (key == "basic_auth_users") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) Bad(key, "expected a map of user: bcrypt hash");
        for (const auto& u : v) {
          std::string user = Scalar(u.first, key);
          std::string hash = Scalar(u.second, key + "." + user);
          if (user.empty() || user.find(':') != std::string::npos) {
            Bad(key + "." + user, "a user name cannot be empty or hold ':'");
          }
          if (hash.rfind("$2", 0) != 0 || hash.size() != 60) {
            Bad(key + "." + user, "expected a bcrypt hash ($2y$...)");
          }
          c.basic_auth_users[user] = hash;
        }
      } else if (key == "http_server_config") {
        if (v.IsNull()) continue;
        if (!v.IsMap()) Bad(key, "expected a map");
        for (const auto& f : v) {
          std::string k = Scalar(f.first, key);
          if (k == "http2") continue;  // civetweb speaks HTTP/1.1 only
          if (k != "headers") Bad(key + "." + k, "unknown key");
          if (!f.second.IsMap()) Bad(key + ".headers", "expected a map");
          for (const auto& h : f.second) {
            std::string name = Scalar(h.first, key + ".headers");
            std::string value = Scalar(h.second, key + ".headers." + name);
            if (name.find_first_of(":\r\n") != std::string::npos ||
                value.find_first_of("\r\n") != std::string::npos) {
              Bad(key + ".headers." + name, "bad header");
            }
            c.headers[name] = value;
          }
        }
      } else {
        Bad(key,
            "unknown key (tls_server_config, basic_auth_users, "
            "http_server_config)");
      }
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError("web config: line " + std::to_string(e.mark.line + 1) +
                      ": " + e.msg);
  }
  return c;
}

WebConfig LoadWebConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read web config file " + path);
  std::stringstream s;
  s << in.rdbuf();
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty()) dir = "/";
  try {
    return ParseWebConfig(s.str(), dir);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

bool BasicAuth::Check(const char* header) {
  if (header == nullptr) return false;
  std::string h(header);
  if (h.size() > 4096 || h.rfind("Basic ", 0) != 0) return false;
  auto decoded = DecodeBase64(h.substr(6));
  if (!decoded) return false;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  std::string user = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  std::string key = user + '\0' + password;
  {
    MutexLock lock(&mu_);
    for (const auto& v : verified_) {
      if (ConstantTimeEqual(v, key)) return true;
    }
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_r(password.c_str(), it->second.c_str(), data.get());
  if (out == nullptr || !ConstantTimeEqual(out, it->second)) return false;
  MutexLock lock(&mu_);
  if (verified_.size() >= 256) verified_.clear();
  verified_.insert(key);
  return true;
}

}  // namespace ctcollect
