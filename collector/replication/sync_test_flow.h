// Test support: a replicated TCP flow 198.18.0.1:sport -> 198.19.0.1:80 in
// `state`, as the engine tests and the HMAC tests send it. Header-only,
// for tests.
#pragma once

#include <netinet/in.h>

#include <cstdint>

#include "collector/replication/sync_wire.h"

namespace ctcollect {

inline SyncFlow TestSyncFlow(uint16_t sport, uint8_t state = 3) {
  SyncFlow f;
  f.Set(kNtaIpv4);
  f.family = AF_INET;
  f.src[0] = 198;
  f.src[1] = 18;
  f.src[3] = 1;
  f.dst[0] = 198;
  f.dst[1] = 19;
  f.dst[3] = 1;
  f.Set(kNtaL4proto);
  f.l4proto = IPPROTO_TCP;
  f.Set(kNtaPort);
  f.sport = sport;
  f.dport = 80;
  f.Set(kNtaTcpState);
  f.state = state;
  f.Set(kNtaStatus);
  f.status = 0xe;
  return f;
}

}  // namespace ctcollect
