// Google Benchmark: replication peer mode without the sockets. Decode +
// apply: datagrams of conntrackd-format messages (NEW, UPD, DEL of 100k
// flows, batched as conntrackd batches them) received by an engine into
// its external cache; items/s is messages per second on one core. Encode:
// the sender's side of a bulk send. conntrackd's own decoder (msg2ct into a
// libnetfilter_conntrack object plus its cache) is mirrored by
// BM_DecodeApplyNfctObjects as the same-run reference; the side-by-side
// figure against conntrackd -B itself is tests/bench/sync_bench.sh.
#include <benchmark/benchmark.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_wire.h"

namespace ctcollect {
namespace {

SyncFlow Flow(uint32_t i, uint8_t state) {
  SyncFlow f;
  f.Set(kNtaIpv4);
  f.family = AF_INET;
  f.src[0] = 198;
  f.src[1] = 18;
  f.src[2] = static_cast<uint8_t>(i >> 8);
  f.src[3] = static_cast<uint8_t>(i);
  f.dst[0] = 198;
  f.dst[1] = 19;
  f.dst[3] = 1;
  f.Set(kNtaStatus);
  f.status = 0x18e;
  f.Set(kNtaL4proto);
  f.l4proto = IPPROTO_TCP;
  f.Set(kNtaPort);
  f.sport = static_cast<uint16_t>(1024 + (i >> 16));
  f.dport = 443;
  f.Set(kNtaTcpState);
  f.state = state;
  f.Set(kNtaTimeout);
  f.timeout = 432000;
  f.Set(kNtaMark);
  f.mark = i & 0xff;
  return f;
}

// Datagrams of at most 1472 bytes, messages back to back. Sequence numbers
// only matter to FT-FW, which is fed a fresh run of them by HELLO-flagged
// messages (no gap tracking while the peer says HELLO).
std::vector<std::vector<uint8_t>> Datagrams(int flows, int* messages) {
  std::vector<std::vector<uint8_t>> out(1);
  uint8_t msg[kSyncMaxMessage];
  uint32_t seq = 1;
  *messages = 0;
  for (int phase = 0; phase < 3; ++phase) {
    for (int i = 0; i < flows; ++i) {
      const uint8_t type = phase == 0   ? kSyncCtNew
                           : phase == 1 ? kSyncCtUpd
                                        : kSyncCtDel;
      size_t n =
          EncodeSyncFlow(Flow(static_cast<uint32_t>(i), phase == 0 ? 1 : 3),
                         type, seq++, kSyncFlagHello, msg);
      if (out.back().size() + n > 1472) out.emplace_back();
      out.back().insert(out.back().end(), msg, msg + n);
      ++*messages;
    }
  }
  return out;
}

class NullSender : public SyncSender {
 public:
  bool Send(size_t, const uint8_t*, size_t) override { return true; }
};

void BM_DecodeApply(benchmark::State& state) {
  const SyncMode mode = static_cast<SyncMode>(state.range(0));
  int messages = 0;
  const auto grams = Datagrams(100000, &messages);
  NullSender sender;
  SyncEngineConfig c;
  c.mode = mode;
  // A long-lived peer: every iteration its 100k flows come, change state
  // and go, as a busy firewall's do.
  SyncEngine e(c, {"l"}, {{"p", 0}}, &sender, nullptr);
  for (auto _ : state) {
    for (const auto& d : grams) e.Receive(0, d.data(), d.size(), false, 0, 0);
    benchmark::DoNotOptimize(e.cache(0).size());
  }
  if (e.cache(0).size() != 0) state.SkipWithError("flows left behind");
  state.SetItemsProcessed(state.iterations() * messages);
}
BENCHMARK(BM_DecodeApply)
    ->Arg(static_cast<int>(SyncMode::kNotrack))
    ->Arg(static_cast<int>(SyncMode::kFtfw))
    ->Unit(benchmark::kMillisecond);

// The reference, measured in the same run: the same messages decoded the
// way conntrackd's msg2ct does, into a new libnetfilter_conntrack object
// each (nfct_new and one setter per attribute), kept in a hash map by
// tuple (conntrackd's caches hold such objects).
void BM_DecodeApplyNfctObjects(benchmark::State& state) {
  int messages = 0;
  const auto grams = Datagrams(100000, &messages);
  struct Free {
    void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
  };
  std::unordered_map<SyncFlowKey, std::unique_ptr<nf_conntrack, Free>,
                     SyncFlowKeyHash>
      cache;
  SyncFlow f;
  for (auto _ : state) {
    for (const auto& d : grams) {
      WalkSyncMessages(
          d.data(), d.size(), false, nullptr,
          [&](const SyncHeader& h, const uint8_t* m, size_t n) {
            if (!DecodeSyncFlow(m + kSyncHeaderSize, n - kSyncHeaderSize, &f)) {
              return;
            }
            if (h.type == kSyncCtDel) {
              cache.erase(f.Key());
            } else {
              cache[f.Key()].reset(SyncFlowToConntrack(f));
            }
          });
    }
    benchmark::DoNotOptimize(cache.size());
  }
  state.SetItemsProcessed(state.iterations() * messages);
}
BENCHMARK(BM_DecodeApplyNfctObjects)->Unit(benchmark::kMillisecond);

void BM_EncodeBulk(benchmark::State& state) {
  std::vector<SyncFlow> table;
  for (uint32_t i = 0; i < 100000; ++i) table.push_back(Flow(i, 3));
  NullSender sender;
  for (auto _ : state) {
    SyncEngineConfig c;
    c.mode = SyncMode::kFtfw;
    SyncEngine e(c, {"l"}, {{"p", 0}}, &sender, [&](auto emit) {
      for (const auto& f : table) emit(f);
    });
    e.BulkSend();
    benchmark::DoNotOptimize(e.link_stats(0).packets_sent);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(table.size()));
}
BENCHMARK(BM_EncodeBulk)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ctcollect

BENCHMARK_MAIN();
