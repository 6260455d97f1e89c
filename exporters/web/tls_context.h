// The OpenSSL server context of the web front, from the web config's
// tls_server_config: certificate chain, key, minimum version and the
// client certificate policy.
//
// Thread safety: NewTlsContext from any thread; the context is then only
// read (OpenSSL's SSL_CTX is safe to share once set up).
#pragma once

#include <memory>
#include <string>

#include "exporters/web/web_config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace ctcollect {

struct TlsContextFree {
  void operator()(SSL_CTX* ctx) const;
};
using TlsContext = std::unique_ptr<SSL_CTX, TlsContextFree>;

// Throws ConfigError for a certificate, key or CA file OpenSSL refuses.
TlsContext NewTlsContext(const WebConfig::Tls& tls);

// OpenSSL's last error as one line ("unknown error" if none).
std::string TlsError();

}  // namespace ctcollect
