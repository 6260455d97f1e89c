// The real conntrackd (Debian's 1.4.7) as a replication peer in a test:
// two namespaces joined by a veth pair (VethPair), and conntrackd run in
// the foreground in one of them with a config file of its own
// (ConntrackdPeer). Replication peer mode is checked against these: a
// conntrackd-to-conntrackd pair first, then ctcollectd in place of one.
//
//   VethPair pair;                                   // a: 198.18.0.1
//   ConntrackdPeer a(pair.a(), ConntrackdPeer::ForSide(pair, 'a', ...));
//   ConntrackdPeer b(pair.b(), ConntrackdPeer::ForSide(pair, 'b', ...));
//   InjectFlow(pair.a(), "-p udp -s 198.18.1.2 ... -t 60");
//   WaitUntil([&] { return Contains(b.Client("-e").out, "..."); }, 5);
//
// Declare the pair before its peers: a peer must stop before its
// namespace goes (TestNetns kills whatever still runs inside). A
// conntrackd gets SIGTERM when the thread that started it ends
// (PR_SET_PDEATHSIG), so that a test killed by its timeout leaves none
// behind: start peers on the test's own thread.
//
// Thread safety: one thread owns a VethPair or a ConntrackdPeer; the const
// members only run commands and read files, and may be called from any
// thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

// conntrackd's example port and multicast group.
inline constexpr int kSyncPort = 3780;
inline constexpr char kSyncGroup[] = "225.0.0.50";

// Two TestNetns, a and b, and a veth pair between them: 198.18.0.1/24 on
// a's end, 198.18.0.2/24 on b's, both up, IPv6 off on them (no DAD or MLD
// chatter on the link), and a route for 224.0.0.0/4 through the veth in
// both, so that multicast replication works.
//
// The replication traffic itself is left untracked in both namespaces
// (table inet ctct_sync: notrack at raw priority, output and prerouting,
// for UDP and TCP from or to `sync_port`, and for every IPv4 multicast
// destination). TestNetns's ruleset makes a namespace track its traffic,
// and a tracked replication link would show up in the peers' kernel tables
// and be replicated itself, so that no comparison with `conntrack -L`
// would hold.
class VethPair {
 public:
  explicit VethPair(int sync_port = kSyncPort);
  // The namespaces are deleted, and the veth pair with them.
  ~VethPair() = default;
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const TestNetns& a() const { return a_; }
  const TestNetns& b() const { return b_; }
  // At most 15 characters, unique per pair ("ctv<pid>-<n>a" / "...b").
  const std::string& ifname_a() const { return ifname_a_; }
  const std::string& ifname_b() const { return ifname_b_; }
  std::string addr_a() const { return "198.18.0.1"; }
  std::string addr_b() const { return "198.18.0.2"; }
  int sync_port() const { return sync_port_; }

  // Drops `percent` % of the IPv4 packets each end receives (both
  // directions); 0 removes the loss. tc netem where the kernel has it;
  // this machine's kernel has no sch_netem (CONFIG_NET_SCH_NETEM unset), so
  // the fallback is an nft netdev ingress chain on each end (table netdev
  // ctct_loss: `meta protocol ip numgen random mod 100 < P drop`). ARP is
  // never dropped, so neighbour resolution does not stall the link.
  // Returns false if neither works.
  bool SetLoss(int percent);
  // "netem", "nft", or "" while no loss is set.
  const std::string& loss_mechanism() const { return loss_mechanism_; }

 private:
  bool Setup();
  void ClearLoss();

  TestNetns a_;
  TestNetns b_;
  int sync_port_;
  std::string ifname_a_;
  std::string ifname_b_;
  std::string error_;
  std::string loss_mechanism_;
  bool ok_ = false;
};

// One conntrackd in a namespace, run in the foreground as a child of the
// test (`conntrackd -C FILE`, not -d), with a conntrackd.conf written into
// a temp dir of its own: its own UNIX socket, LockFile (conntrackd refuses
// to start while the lock exists) and LogFile there, Syslog and Systemd
// off, HashSize 8192, HashLimit 65536, NetlinkBufferSize 2 MiB (growing to
// 8 MiB).
//
// No Filter block: conntrackd 1.4.7 then replicates every flow, loopback
// and 198.18.x ones included (the filter exists only if configured; the
// Debian /etc/conntrackd/conntrackd.conf and the shipped examples do
// configure one, `Protocol Accept { TCP SCTP DCCP }` and `Address Ignore {
// 127.0.0.1 ... }`, which would drop UDP, ICMP and loopback flows).
class ConntrackdPeer {
 public:
  enum class Mode { kNotrack, kFtfw, kAlarm };
  enum class Transport { kUdp, kMulticast, kTcp };

  struct Options {
    Mode mode = Mode::kFtfw;
    Transport transport = Transport::kUdp;
    // UDP and TCP: IPv4_address, where this peer receives. Multicast:
    // IPv4_interface, the address it sends and joins from.
    std::string local_address;
    // UDP and TCP: IPv4_Destination_Address. Unused for multicast.
    std::string peer_address;
    // UDP and TCP: Port; multicast: Group.
    int port = kSyncPort;
    std::string interface;  // Interface; "" leaves it out
    std::string multicast_group = kSyncGroup;
    bool expectation_sync = false;  // Options { ExpectationSync On }
    // ALARM: RefreshTime and CacheTimeout (conntrackd's defaults: 15, 180).
    int alarm_refresh_seconds = 15;
    int alarm_cache_timeout_seconds = 180;
    // Lines added inside `Mode X { }`, `Sync { }` and `General { }`.
    std::string extra_mode;
    std::string extra_sync;
    std::string extra_general;
    // Seconds to wait for the UNIX socket to answer `-s`; 0 = no wait.
    double ready_deadline = 5;
  };

  // The options of side 'a' or 'b' of `pair`, each pointing at the other:
  // local and peer address, interface, the pair's sync port.
  static Options ForSide(const VethPair& pair, char side, Mode mode,
                         Transport transport);
  // The config file `options` give, with the paths of `dir`.
  static std::string ConfigText(const Options& options, const std::string& dir);

  // Writes the config, starts conntrackd in `ns` and waits until
  // `conntrackd -C FILE -s` succeeds (ready()), it exits (running() is
  // false), or the deadline passes.
  ConntrackdPeer(const TestNetns& ns, const Options& options);
  // Stop(), then the temp dir goes.
  ~ConntrackdPeer();
  ConntrackdPeer(const ConntrackdPeer&) = delete;
  ConntrackdPeer& operator=(const ConntrackdPeer&) = delete;

  bool ready() const { return ready_; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& socket_path() const { return socket_path_; }
  // Why it is not ready, "" if it is.
  const std::string& error() const { return error_; }
  // Its LogFile, then what it printed on stdout and stderr (in console
  // mode it prints its log lines there too): for failure messages.
  std::string log() const;

  // `conntrackd -C <config> <args>` in the namespace; stdout in out,
  // stderr in err.
  CommandResult Client(const std::string& args) const;

  // SIGTERM, then SIGKILL after 3 s; the exit status, -1 if it was killed
  // or did not run.
  int Stop();

 private:
  const TestNetns& ns_;
  Options options_;
  std::string dir_, config_path_, socket_path_, log_path_, console_path_;
  std::string error_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// `conntrack -I <conntrack_args>` in `ns`. Two conntrack 1.4.7 quirks seen
// here: `-u STATUS` after `-m MARK` overwrites the mark with the status
// bits (put --mark after -u); `-U` takes no --zone and cannot update a flow
// in a zone other than 0 (ENOENT). The family comes from the addresses
// (`-f` is refused with -I).
CommandResult InjectFlow(const TestNetns& ns,
                         const std::string& conntrack_args);

// The lines of `text` that contain every one of `needles`.
std::vector<std::string> LinesWith(const std::string& text,
                                   const std::vector<std::string>& needles);

}  // namespace ctcollect::itest
