// Fuzz target: conntrackd.conf files, as --conntrackd.config reads them.
// Besides not crashing: an error is one line "LINE: reason", and what is
// accepted is something the sync channel can be given (a mode, and the
// addresses of the transport it names).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "collector/config/conntrackd_conf.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool LineThenReason(const std::string& e) {
  const size_t colon = e.find(": ");
  if (colon == 0 || colon == std::string::npos) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (e[i] < '0' || e[i] > '9') return false;
  }
  return e.find('\n') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ctcollect::SyncMode;
  using ctcollect::SyncTransport;
  std::string error;
  auto c = ctcollect::ParseConntrackdConf(
      std::string(reinterpret_cast<const char*>(data), size), &error);
  if (!c) {
    Check(LineThenReason(error));
    return 0;
  }
  const ctcollect::SyncOptions& s = c->sync;
  Check(s.mode != SyncMode::kOff);
  if (s.transport == SyncTransport::kMulticast) {
    Check(!s.multicast_group.empty() && s.peers.empty());
  } else {
    Check(!s.listen_address.empty() && s.peers.size() == 1 &&
          s.multicast_group.empty());
  }
  Check(s.ack_window > 0 && s.resend_queue_size > 0);
  Check(s.refresh_time.count() > 0 && s.cache_timeout.count() > 0);
  Check(s.sndbuf >= 0 && s.rcvbuf >= 0 && s.interface.size() < 16);
  for (const std::string& w : c->warnings) Check(LineThenReason(w));
  return 0;
}
