// Fuzz target: ctnetlink conntrack messages (events and dump replies) and
// the flow tracker they feed, as the ingest thread walks a datagram.
#include <libmnl/libmnl.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/flows/counter_shard.h"
#include "collector/flows/flow_tracker.h"
#include "collector/netlink/nl_attr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy to an aligned buffer, as recv() into our buffers would be.
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  // A tracker per input: a finding replays from its input alone, and the
  // check below costs what this input made, not what the whole campaign
  // did (a tracker kept across inputs gathered a zone block for every zone
  // number ever generated, and walking them became most of the time).
  ctcollect::CounterShard counters;
  ctcollect::FlowTracker tracker(&counters);
  const bool dump = size > 0 && (data[0] & 1);
  if (dump) tracker.BeginDump();
  ctcollect::ForEachMsg(aligned.data(), size, [&](const nlmsghdr* nlh) {
    if (auto m = ctcollect::ParseCtMessage(nlh)) {
      // During a dump, messages with an odd sequence number arrive as
      // events: the events that race a running dump.
      if (dump && (nlh->nlmsg_seq & 1) == 0) {
        tracker.ApplyDumpEntry(*m, 1);
      } else {
        tracker.ApplyEvent(*m, 1);
      }
    }
    return true;
  });
  if (dump) tracker.EndDump(size % 3 != 0);
  // The invariant the daemon relies on: gauges never go negative.
  counters.ForEachEntries(
      [](uint16_t, ctcollect::Family, ctcollect::Proto, uint8_t, int64_t v) {
        if (v < 0) __builtin_trap();
      });
  return 0;
}
