// Google Benchmark: parse + apply of ctnetlink event messages, the
// per-event cost of the ingest thread without the system calls. Items/s is
// events per second on one core.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "collector/conntrack/ct_message.h"
#include "collector/flows/counter_shard.h"
#include "collector/flows/flow_tracker.h"
#include "collector/netlink/nl_attr.h"
#include "collector/testing/nl_builder.h"
#include "collector/top/top_talkers.h"

namespace ctcollect {
namespace {

// A synthetic stream shaped like real TCP traffic: per flow a NEW
// (SYN_SENT), an UPDATE to ESTABLISHED, an UPDATE without state (e.g. a
// mark change) and a DESTROY, flows interleaved as on a busy box.
std::vector<uint8_t> SyntheticStream(int flows) {
  std::vector<uint8_t> buf;
  testing::CtSpec s;
  for (int phase = 0; phase < 4; ++phase) {
    for (int i = 0; i < flows; ++i) {
      s.id = 0x9e3779b9u * static_cast<uint32_t>(i + 1);
      s.msg = phase == 3 ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW;
      s.flags = phase == 0 ? (NLM_F_CREATE | NLM_F_EXCL) : 0;
      s.state = phase == 0 ? 1 : phase == 1 ? 3 : -1;
      s.counters = phase == 3;
      testing::AppendCt(&buf, s);
    }
  }
  return buf;
}

std::vector<uint8_t> ReadFile(const char* name) {
  std::ifstream f(std::string(CTCOLLECT_TESTDATA) + "/" + name,
                  std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void RunStream(benchmark::State& state, const std::vector<uint8_t>& buf) {
  CounterShard counters;
  FlowTracker tracker(&counters);
  int64_t events = 0;
  for (auto _ : state) {
    ForEachMsg(buf.data(), buf.size(), [&](const nlmsghdr* nlh) {
      if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
        auto m = ParseCtMessage(nlh);
        if (m) tracker.ApplyEvent(*m, 1);
        ++events;
      }
      return true;
    });
  }
  state.SetItemsProcessed(events);
}

void BM_ParseApplySynthetic(benchmark::State& state) {
  const std::vector<uint8_t> buf =
      SyntheticStream(static_cast<int>(state.range(0)));
  RunStream(state, buf);
}
BENCHMARK(BM_ParseApplySynthetic)->Arg(1000)->Arg(100000);

// Real messages captured from this kernel (tests/testdata/README.md).
void BM_ParseApplyCaptured(benchmark::State& state) {
  static const std::vector<uint8_t> buf = [] {
    std::vector<uint8_t> all;
    for (const char* f :
         {"events_tcp_v4.nlmsg", "events_udp_v6.nlmsg", "events_icmp_v4.nlmsg",
          "events_injected_mix.nlmsg", "events_tcp_v4_acct.nlmsg"}) {
      auto d = ReadFile(f);
      all.insert(all.end(), d.begin(), d.end());
    }
    return all;
  }();
  if (buf.empty()) {
    state.SkipWithError("tests/testdata/*.nlmsg missing");
    return;
  }
  RunStream(state, buf);
}
BENCHMARK(BM_ParseApplyCaptured);

// Parsing alone, to separate it from the flow-table work.
void BM_ParseOnly(benchmark::State& state) {
  static const std::vector<uint8_t> buf = SyntheticStream(1000);
  int64_t n = 0;
  for (auto _ : state) {
    ForEachMsg(buf.data(), buf.size(), [&](const nlmsghdr* nlh) {
      benchmark::DoNotOptimize(ParseCtMessage(nlh));
      ++n;
      return true;
    });
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_ParseOnly);

// A dump of 1M flows into an empty table: the user-space part of a resync.
void BM_DumpApply1M(benchmark::State& state) {
  std::vector<uint8_t> buf;
  testing::CtSpec s;
  s.flags = NLM_F_MULTI;
  s.state = 3;
  for (uint32_t i = 0; i < 1000000; ++i) {
    s.id = 0x9e3779b9u * (i + 1);
    testing::AppendCt(&buf, s);
  }
  for (auto _ : state) {
    CounterShard counters;
    FlowTracker tracker(&counters);
    // As the daemon does: size from the kernel's count, then apply each
    // datagram's worth of entries (~200 at 32 KiB) as one batch.
    tracker.BeginDump(1000000);
    std::vector<CtMessage> batch;
    batch.reserve(256);
    ForEachMsg(buf.data(), buf.size(), [&](const nlmsghdr* nlh) {
      auto m = ParseCtMessage(nlh);
      if (m) batch.push_back(*m);
      if (batch.size() == 200) {
        tracker.ApplyDumpBatch(batch.data(), batch.size(), 1);
        batch.clear();
      }
      return true;
    });
    tracker.ApplyDumpBatch(batch.data(), batch.size(), 1);
    tracker.EndDump(true);
    benchmark::DoNotOptimize(tracker.live_flows());
  }
  state.SetItemsProcessed(state.iterations() * 1000000);
}
BENCHMARK(BM_DumpApply1M)->Unit(benchmark::kMillisecond);

// An event storm: `flows` NEW then `flows` DESTROY, ids spread as the
// kernel's hashes are.
std::vector<CtMessage> StormMessages(uint32_t flows) {
  std::vector<uint8_t> buf;
  testing::CtSpec s;
  s.state = 3;
  for (int phase = 0; phase < 2; ++phase) {
    s.msg = phase == 0 ? IPCTNL_MSG_CT_NEW : IPCTNL_MSG_CT_DELETE;
    s.flags = phase == 0 ? (NLM_F_CREATE | NLM_F_EXCL) : 0;
    for (uint32_t i = 0; i < flows; ++i) {
      // murmur3's finalizer: ids as random as the kernel's hashes (a
      // multiple of i would walk the table in order and hide the misses).
      uint32_t h = i + 1;
      h ^= h >> 16;
      h *= 0x85ebca6bu;
      h ^= h >> 13;
      h *= 0xc2b2ae35u;
      h ^= h >> 16;
      s.id = h;
      testing::AppendCt(&buf, s);
    }
  }
  std::vector<CtMessage> out;
  ForEachMsg(buf.data(), buf.size(), [&](const nlmsghdr* nlh) {
    if (auto m = ParseCtMessage(nlh)) out.push_back(*m);
    return true;
  });
  return out;
}

// The storm on a tracker whose table a first storm grew before the clock
// starts (erasing never shrinks it), so the figure is the per-event work
// with a cache and TLB miss each, not page faults. `batch` 1 applies event
// by event; more applies as the daemon does, one recvmmsg's events at a
// time (up to 64) through ApplyEventBatch, which prefetches their slots.
void RunStorm(benchmark::State& state, const std::vector<CtMessage>& msgs,
              size_t batch, bool top = false) {
  CounterShard counters;
  std::unique_ptr<TopTalkers> talkers =
      top ? std::make_unique<TopTalkers>() : nullptr;
  FlowTracker tracker(&counters, talkers.get());
  auto storm = [&] {
    if (batch <= 1) {
      for (const CtMessage& m : msgs) tracker.ApplyEvent(m, 1);
      return;
    }
    for (size_t i = 0; i < msgs.size(); i += batch) {
      tracker.ApplyEventBatch(&msgs[i], std::min(batch, msgs.size() - i), 1);
    }
  };
  storm();  // grows the table
  for (auto _ : state) {
    storm();
    if (tracker.live_flows() != 0) state.SkipWithError("flows left over");
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(msgs.size()));
}

// At a table of 1M flows, event by event.
void BM_EventStorm1M(benchmark::State& state) {
  static const std::vector<CtMessage> msgs = StormMessages(1000000);
  RunStorm(state, msgs, 1);
}
BENCHMARK(BM_EventStorm1M)->Unit(benchmark::kMillisecond);

// At 1M and at 4M flows (a large router's table: 128 MiB of slots), in
// batches of range(0) events.
void BM_EventStormBatched1M(benchmark::State& state) {
  static const std::vector<CtMessage> msgs = StormMessages(1000000);
  RunStorm(state, msgs, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_EventStormBatched1M)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_EventStorm4M(benchmark::State& state) {
  static const std::vector<CtMessage> msgs = StormMessages(4000000);
  RunStorm(state, msgs, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_EventStorm4M)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

// The top-talker rankings' cost on the 1M storm, batched as the daemon
// applies events: range(0) 0 without them (--top.enabled=false), 1 with;
// range(1) 1 for a source address per flow (the sketch's worst case), 0
// for 17 sources.
void BM_EventStormTop1M(benchmark::State& state) {
  static const std::vector<CtMessage> base = StormMessages(1000000);
  std::vector<CtMessage> msgs = base;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const uint32_t k = static_cast<uint32_t>(i % 1000000);
    const uint32_t src = state.range(1) ? k : k % 17;
    std::memcpy(msgs[i].src, &src, sizeof(src));
  }
  RunStorm(state, msgs, 64, state.range(0) != 0);
}
BENCHMARK(BM_EventStormTop1M)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ctcollect

BENCHMARK_MAIN();
