#include "exporters/web/http_server.h"

#include <gtest/gtest.h>

#include "collector/base/config_error.h"

namespace ctcollect {
namespace {

TEST(HttpServer, ChecksListenAddressesBeforeAnythingListens) {
  // The front listens itself, IPv6 included, whatever civetweb's build.
  EXPECT_NO_THROW(HttpServer::CheckListenAddresses(
      {"127.0.0.1:9", "10034", ":10034", "[::1]:9", "[::]:10034"}));
  for (const char* bad : {"", "host:9", "127.0.0.1:", "10034s", "[::1:9",
                          "127.0.0.1:70000", "::1:9"}) {
    EXPECT_THROW(HttpServer::CheckListenAddresses({"10034", bad}), ConfigError)
        << bad;
  }
}

}  // namespace
}  // namespace ctcollect
