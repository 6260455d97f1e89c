// Fuzz target: replication datagrams (conntrackd's wire format) as a peer
// sends them, received by an FT-FW, a NOTRACK and an ALARM engine, and as a
// TCP stream split at an arbitrary point; plus the attribute decoders on
// their own with an encode/decode round trip.
#include <cstdint>
#include <cstring>
#include <vector>

#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_wire.h"

namespace {

class NullSender : public ctcollect::SyncSender {
 public:
  bool Send(size_t, const uint8_t*, size_t) override { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctcollect;
  NullSender sender;
  std::vector<uint8_t> copy(data, data + size);  // exact bounds for ASan
  for (SyncMode mode :
       {SyncMode::kFtfw, SyncMode::kNotrack, SyncMode::kAlarm}) {
    SyncEngineConfig c;
    c.mode = mode;
    c.ack_window = 4;
    c.resend_queue_size = 64;  // small: an engine per input
    SyncEngine e(c, {"l"}, {{"p", 0}}, &sender, nullptr);
    e.LocalFlow(kSyncCtNew, SyncFlow{});  // something in the resend queue
    e.Receive(0, copy.data(), copy.size(), false, 0, 0);
    e.Tick(2000, 2);
    e.Flush();
  }
  {
    SyncEngineConfig c;
    c.resend_queue_size = 64;
    SyncEngine e(c, {"l"}, {{"p", 0}}, &sender, nullptr);
    const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    std::vector<uint8_t> stream(data, data + cut);
    size_t used = e.Receive(0, stream.data(), stream.size(), true, 0, 0);
    stream.erase(stream.begin(), stream.begin() + static_cast<long>(used));
    stream.insert(stream.end(), data + cut, data + size);
    e.Receive(0, stream.data(), stream.size(), true, 0, 0);
  }
  if (size > kSyncHeaderSize) {
    SyncFlow f;
    if (DecodeSyncFlow(copy.data() + kSyncHeaderSize, size - kSyncHeaderSize,
                       &f)) {
      uint8_t out[kSyncMaxMessage];
      const size_t n = EncodeSyncFlow(f, kSyncCtUpd, 1, 0, out);
      SyncFlow g;
      if (!DecodeSyncFlow(out + kSyncHeaderSize, n - kSyncHeaderSize, &g) ||
          !(g.Key() == f.Key()) || g.present != f.present) {
        __builtin_trap();  // what we encode we must read back
      }
    }
    SyncExpect x;
    (void)DecodeSyncExpect(copy.data() + kSyncHeaderSize,
                           size - kSyncHeaderSize, &x);
  }
  return 0;
}
