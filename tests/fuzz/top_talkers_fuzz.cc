// Fuzz target: sequences of conntrack events and dumps driving the flow
// tracker and its top-talker rankings, beside a model of the kernel's
// table. Events may be lost (not delivered), dumps may race events or be
// cut short. Checked after every input: the rankings never under-count a
// key after a quiet complete dump, equal the model exactly while the keys
// are few, and never list more entries than the table holds.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <map>

#include "collector/flows/counter_shard.h"
#include "collector/flows/flow_tracker.h"
#include "collector/top/top_talkers.h"

namespace {

using ctcollect::CtMessage;
using ctcollect::EventType;

CtMessage Flow(EventType t, uint8_t id, uint8_t src) {
  CtMessage m;
  m.type = t;
  m.id = id + 1u;
  m.family = ctcollect::Family::kIpv4;
  m.proto = ctcollect::Proto::kUdp;
  m.l4proto = 17;
  m.has_state = true;
  m.src[0] = 10;
  m.src[3] = src;
  m.dst[0] = 192;
  m.dport = static_cast<uint16_t>(src % 3);
  return m;
}

std::string SrcKey(uint8_t src) { return "10.0.0." + std::to_string(src); }

struct Rig {
  explicit Rig(const ctcollect::HeavyHitters::Limits& l)
      : top(l), tracker(&counters, &top) {}
  ctcollect::CounterShard counters;
  ctcollect::TopTalkers top;
  ctcollect::FlowTracker tracker;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ctcollect::HeavyHitters::Limits tiny;
  tiny.exact_keys = 4;
  tiny.tracked_max = 6;
  tiny.width = 16;
  tiny.share = 0.05;
  Rig exact({}), small(tiny);
  Rig* rigs[] = {&exact, &small};
  std::map<uint8_t, uint8_t> kernel;  // id -> src: the table's truth
  bool dumping = false;
  uint32_t now = 1;
  for (size_t i = 0; i + 2 < size; i += 3) {
    const uint8_t op = data[i] & 7, id = data[i + 1] & 63, src = data[i + 2];
    const bool deliver = !(data[i] & 0x80);  // else the event is lost
    now += (data[i] >> 3) & 1;
    CtMessage m;
    switch (op) {
      case 0:  // NEW
      case 1:
        if (kernel.count(id)) continue;
        kernel[id] = src;
        m = Flow(EventType::kNew, id, src);
        break;
      case 2:  // UPDATE
        if (!kernel.count(id)) continue;
        m = Flow(EventType::kUpdate, id, kernel[id]);
        break;
      case 3:  // DESTROY
        if (!kernel.count(id)) continue;
        m = Flow(EventType::kDestroy, id, kernel[id]);
        kernel.erase(id);
        break;
      case 4:  // a dump starts
        if (dumping) continue;
        for (Rig* r : rigs) r->tracker.BeginDump();
        dumping = true;
        continue;
      case 5:  // the dump reports a flow the kernel has
        if (!dumping || !kernel.count(id)) continue;
        for (Rig* r : rigs) {
          r->tracker.ApplyDumpEntry(Flow(EventType::kNew, id, kernel[id]), now);
        }
        continue;
      default:  // the dump ends, complete or cut short
        if (!dumping) continue;
        for (Rig* r : rigs) r->tracker.EndDump(op == 6, now);
        dumping = false;
        continue;
    }
    if (deliver) {
      for (Rig* r : rigs) r->tracker.ApplyEvent(m, now);
    }
  }
  // A quiet, complete dump of the whole table: the tracker equals the
  // kernel, and so must the rankings.
  for (Rig* r : rigs) {
    if (dumping) r->tracker.EndDump(false, now);
    r->tracker.BeginDump();
    for (const auto& [id, src] : kernel) {
      r->tracker.ApplyDumpEntry(Flow(EventType::kNew, id, src), now);
    }
    r->tracker.EndDump(true, now);
  }
  std::map<std::string, int64_t> truth;
  for (const auto& [id, src] : kernel) ++truth[SrcKey(src)];
  for (Rig* r : rigs) {
    auto rank = r->top.Rank(ctcollect::TopBy::kSrc, 1000, now);
    if (rank.entries != static_cast<int64_t>(kernel.size())) std::abort();
    int64_t listed = 0;
    for (const auto& item : rank.top) {
      const int64_t want = truth.count(item.key) ? truth.at(item.key) : 0;
      if (item.entries < want || item.entries < 1) std::abort();
      listed += item.entries - item.error;
    }
    if (listed > rank.entries) std::abort();
    // Few keys: every one counted exactly.
    if (r == &exact) {
      if (rank.top.size() != truth.size()) std::abort();
      for (const auto& item : rank.top) {
        if (item.entries != truth.at(item.key) || item.error != 0) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
