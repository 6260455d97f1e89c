#include "tests/integration/pki.h"

#include <stdlib.h>

#include <fstream>

#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

Pki::Pki() {
  char tmpl[] = "/tmp/ctct-pki-XXXXXX";
  dir_ = mkdtemp(tmpl);
  std::string d = ShellQuote(dir_);
  CommandResult r = Shell(
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out "
      "ca.crt -subj /CN=ctct-ca -days 1 2>&1"
      " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext"
      " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out "
      "server.csr -subj /CN=localhost 2>&1"
      " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -out server.crt -days 1 -extfile san.ext 2>&1"
      " && openssl req -newkey rsa:2048 -nodes -keyout client.key -out "
      "client.csr -subj /CN=scraper 2>&1"
      " && openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -out client.crt -days 1 2>&1");
  ok_ = r.exit_code == 0;
  error_ = r.out;
  CommandResult h = Shell(
      "/usr/bin/python3 -W ignore -c \"import crypt; print(crypt.crypt("
      "'s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))\"");
  hash_ = h.out.substr(0, h.out.find('\n'));
  ok_ = ok_ && h.exit_code == 0 && hash_.size() == 60;
}

Pki::~Pki() { Shell("rm -rf " + ShellQuote(dir_)); }

std::string Pki::WebConfig(const std::string& name, const std::string& text) {
  std::ofstream(path(name)) << text;
  return path(name);
}

std::string Pki::TlsWebConfig() {
  return WebConfig("tls.yml",
                   "tls_server_config:\n  cert_file: server.crt\n"
                   "  key_file: server.key\n");
}

}  // namespace ctcollect::itest
