#include "exporters/web/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

#include "collector/base/config_error.h"

namespace ctcollect {

void TlsContextFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

std::string TlsError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return e ? buf : "unknown error";
}

TlsContext NewTlsContext(const WebConfig::Tls& tls) {
  TlsContext ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + TlsError());
  int min = tls.min_version == "TLS10"   ? TLS1_VERSION
            : tls.min_version == "TLS11" ? TLS1_1_VERSION
            : tls.min_version == "TLS13" ? TLS1_3_VERSION
                                         : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.get(), min);
  // Non-blocking writes that may take part of a buffer (and be retried
  // from a moved one); idle connections give their buffers back.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) !=
      1) {
    throw ConfigError("web config: cert_file " + tls.cert_file + ": " +
                      TlsError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw ConfigError("web config: key_file " + tls.key_file + ": " +
                      TlsError());
  }
  if (tls.client_auth_type != "NoClientCert") {
    if (SSL_CTX_load_verify_locations(ctx.get(), tls.client_ca_file.c_str(),
                                      nullptr) != 1) {
      throw ConfigError("web config: client_ca_file " + tls.client_ca_file +
                        ": " + TlsError());
    }
    int mode = SSL_VERIFY_PEER;
    if (tls.client_auth_type == "RequireAndVerifyClientCert") {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  return ctx;
}

}  // namespace ctcollect
