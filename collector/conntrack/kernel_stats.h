// The kernel's own conntrack statistics over ctnetlink: the per-CPU counters
// (IPCTNL_MSG_CT_GET_STATS_CPU, what `conntrack -S` prints) and the table
// size and limit (IPCTNL_MSG_CT_GET_STATS, what `conntrack -C` prints).
// Request building and reply parsing are split from the I/O so the parsers
// run on captured bytes in tests.
//
// Thread safety: the parsers are pure and thread-safe; QueryKernelStats
// uses the socket it is given, one caller per socket at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace ctcollect {

class NetlinkSocket;

// The per-CPU counters, in the order of the `conntrack_kernel_<name>_total`
// metrics.
enum class KernelStat : uint8_t {
  kFound,
  kInvalid,
  kInsert,
  kInsertFailed,
  kDrop,
  kEarlyDrop,
  kError,
  kSearchRestart,
  kClashResolve,
  kChainTooLong,
};
inline constexpr int kNumKernelStats = 10;
std::string_view KernelStatName(KernelStat s);

struct KernelStats {
  std::array<uint64_t, kNumKernelStats> cpu_sum{};  // summed over CPUs
  int cpus = 0;                                     // CPU records seen
  std::optional<uint64_t> entries;                  // current table size
  std::optional<uint64_t> max_entries;              // nf_conntrack_max
};

// Writes the request into buf (at least MNL_SOCKET_BUFFER_SIZE bytes).
// Returns its length.
size_t BuildStatsCpuRequest(void* buf, uint32_t seq);
size_t BuildStatsRequest(void* buf, uint32_t seq);

// Parses a buffer of reply messages, adding what it finds to *out.
// Returns false for malformed bytes (then *out holds what parsed so far).
// *done is set when NLMSG_DONE or an NLMSG_ERROR is seen.
bool ParseStatsReply(const void* buf, size_t len, KernelStats* out, bool* done);

// Runs both requests on `sock` (blocking, with a receive timeout) and
// returns the combined result.
std::error_code QueryKernelStats(NetlinkSocket* sock, KernelStats* out);

}  // namespace ctcollect
