#include "exporters/web/http_server.h"

#include <civetweb.h>
#include <gtest/gtest.h>

#include "collector/config/options.h"

namespace ctcollect {
namespace {

TEST(HttpServer, RefusesIpv6ListenAddressesThisCivetwebCannotServe) {
  EXPECT_NO_THROW(HttpServer::CheckListenAddresses({"127.0.0.1:9", "10034"}));
  if (mg_check_feature(8) == 0) {
    EXPECT_THROW(HttpServer::CheckListenAddresses({"10034", "[::1]:9"}),
                 ConfigError);
  } else {
    EXPECT_NO_THROW(HttpServer::CheckListenAddresses({"[::1]:9"}));
  }
}

}  // namespace
}  // namespace ctcollect
