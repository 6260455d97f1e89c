#include "exporters/web/web_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "collector/config/options.h"

namespace ctcollect {
namespace {

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ctct-webcfg-XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (const char* f : {"server.crt", "server.key", "ca.crt"}) {
      std::ofstream(dir_ + "/" + f) << "x\n";
    }
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    if (system(cmd.c_str()) != 0) ADD_FAILURE() << cmd;
  }
  std::string ErrorOf(const std::string& yaml) {
    try {
      ParseWebConfig(yaml, dir_);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

// A bcrypt hash of "secret" (cost 4), made with crypt(3).
const std::string kHash =
    "$2b$04$NqZ3A2Pz9w9mVQ1oTpOxOe5xsOsyleG7qgjM4zJZRW5ohNBj984..";

TEST_F(WebConfigTest, ParsesTheExporterToolkitKeys) {
  WebConfig c = ParseWebConfig(R"(
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
  max_version: TLS13
basic_auth_users:
  alice: )" + kHash + R"(
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
)",
                               dir_);
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, dir_ + "/server.crt");  // relative to the file
  EXPECT_EQ(c.tls->client_auth_type, "RequireAndVerifyClientCert");
  EXPECT_EQ(c.tls->min_version, "TLS13");
  EXPECT_EQ(c.basic_auth_users.at("alice"), kHash);
  EXPECT_EQ(c.headers.at("X-Frame-Options"), "deny");
  EXPECT_FALSE(ParseWebConfig("", dir_).tls);
}

TEST_F(WebConfigTest, RefusesWhatItCannotHonour) {
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: server.crt\n")
                .find("cert_file and key_file are required"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: nope.crt\n  key_file: "
                    "server.key\n")
                .find("cannot read"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: server.crt\n  key_file: "
                    "server.key\n  client_auth_type: RequireAnyClientCert\n")
                .find("not supported"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: server.crt\n  key_file: "
                    "server.key\n  client_auth_type: "
                    "RequireAndVerifyClientCert\n")
                .find("client_ca_file"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config:\n  cert_file: server.crt\n  key_file: "
                    "server.key\n  cipher_suites: [x]\n")
                .find("single value"),
            std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_users:\n  bob: plaintext\n").find("bcrypt"),
            std::string::npos);
  EXPECT_NE(ErrorOf("basic_auth_user:\n  bob: x\n").find("unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("tls_server_config: [\n").find("web config"),
            std::string::npos);
}

TEST(Base64, DecodesAndRefuses) {
  EXPECT_EQ(DecodeBase64("YWxpY2U6c2VjcmV0").value(), "alice:secret");
  EXPECT_EQ(DecodeBase64("YQ==").value(), "a");
  EXPECT_EQ(DecodeBase64("YWI=").value(), "ab");
  EXPECT_FALSE(DecodeBase64("YQ="));
  EXPECT_FALSE(DecodeBase64("Y=Q="));
  EXPECT_FALSE(DecodeBase64("YW!j"));
}

TEST(BasicAuth, ChecksBcryptAndCachesOnlySuccesses) {
  BasicAuth auth({{"alice", kHash}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check("Basic YWxpY2U6c2VjcmV0"));   // alice:secret
  EXPECT_TRUE(auth.Check("Basic YWxpY2U6c2VjcmV0"));   // cached
  EXPECT_FALSE(auth.Check("Basic YWxpY2U6c2VjcmV1"));  // alice:secreu
  EXPECT_FALSE(auth.Check("Basic Ym9iOnNlY3JldA=="));  // bob:secret
  EXPECT_FALSE(auth.Check("Bearer YWxpY2U6c2VjcmV0"));
  EXPECT_FALSE(auth.Check("Basic !!!!"));
  EXPECT_FALSE(auth.Check(nullptr));
  EXPECT_FALSE(BasicAuth({}).enabled());
}

}  // namespace
}  // namespace ctcollect
