// Settings of replication peer mode (conntrackd's Sync section): the mode,
// the transport and its addresses, and the FT-FW / ALARM tunables. Filled
// from the --sync.* flags, the config file's sync: section, or an existing
// conntrackd.conf (--conntrackd.config). Plain data; validated by
// ValidateSyncOptions before anything opens a socket.
//
// Thread safety: plain data.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ctcollect {

enum class SyncMode { kOff, kNotrack, kFtfw, kAlarm };
enum class SyncTransport { kUdp, kMulticast, kTcp };

struct SyncOptions {
  SyncMode mode = SyncMode::kOff;
  SyncTransport transport = SyncTransport::kUdp;
  // UDP/TCP: ADDR:PORT this node receives on (ADDR may be 0.0.0.0 or an
  // [IPv6]). Multicast: ADDR is the local address to join from (may be
  // empty: any).
  std::string listen_address;
  // Where to send, and the only sources accepted (ADDR:PORT or ADDR; a
  // missing port is the listen port). Repeatable.
  std::vector<std::string> peers;
  // Multicast: GROUP:PORT (e.g. 225.0.0.50:3780).
  std::string multicast_group;
  std::string interface;                // IFNAME to send and join on; "" = any
  uint32_t ack_window = 300;            // FT-FW ACKWindowSize
  uint32_t resend_queue_size = 131072;  // FT-FW ResendQueueSize
  std::chrono::seconds refresh_time{15};    // ALARM RefreshTime
  std::chrono::seconds cache_timeout{180};  // ALARM CacheTimeout
  bool expectation_sync = false;            // Options { ExpectationSync On }
  bool tcp_window_tracking = false;         // Options { TCPWindowTracking On }
  // Largest datagram: MTU-28 (UDP) as conntrackd sends; 0 = from the
  // interface's MTU (1500 if unknown).
  uint32_t mtu = 0;
  int sndbuf = 0;        // SndSocketBuffer (0 = the kernel's default)
  int rcvbuf = 0;        // RcvSocketBuffer
  bool checksum = true;  // Checksum on|off (SO_NO_CHECK when off)
  // ctcollectd peers only: HMAC-SHA256 over each datagram, key read from
  // this file. conntrackd has no such thing and drops such datagrams.
  std::string hmac_key_file;
  // How often the replicator dumps the local table to catch what events
  // did not say (flows older than the daemon, changes lost in an overrun):
  // the daemon's --resync-interval.
  std::chrono::milliseconds local_resync{60000};

  bool operator==(const SyncOptions&) const = default;
};

}  // namespace ctcollect
