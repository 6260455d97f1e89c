#include "collector/config/options.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>

#include "collector/config/conntrackd_conf.h"
#include "collector/flows/flow_values.h"

namespace ctcollect {
namespace {

[[noreturn]] void Fail(std::string_view flag, std::string_view v,
                       std::string_view why) {
  throw ConfigError("invalid value \"" + std::string(v) + "\" for " +
                    std::string(flag) + ": " + std::string(why));
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::chrono::milliseconds ParseDuration(std::string_view flag,
                                        std::string_view v) {
  // Go/Prometheus style: a sequence of <number><unit>, e.g. 1m30s, 500ms.
  if (v.empty()) Fail(flag, v, "empty duration");
  uint64_t total_ms = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t start = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    auto n = ParseUint(v.substr(start, i - start));
    if (!n) Fail(flag, v, "expected a duration such as 60s, 500ms or 2m");
    size_t ustart = i;
    while (i < v.size() && std::isalpha(static_cast<unsigned char>(v[i]))) ++i;
    std::string_view unit = v.substr(ustart, i - ustart);
    uint64_t mult;
    if (unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60 * 1000;
    } else if (unit == "h") {
      mult = 3600 * 1000;
    } else if (unit == "d") {
      mult = 24 * 3600 * 1000;
    } else {
      Fail(flag, v, "unknown or missing unit (use ms, s, m, h or d)");
    }
    if (*n > (uint64_t{1} << 40) / mult) Fail(flag, v, "duration too long");
    total_ms += *n * mult;
  }
  if (total_ms == 0) Fail(flag, v, "must be greater than zero");
  return std::chrono::milliseconds(total_ms);
}

size_t ParseByteSize(std::string_view flag, std::string_view v) {
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  auto n = ParseUint(v.substr(0, i));
  if (!n) Fail(flag, v, "expected a size such as 16777216, 16M or 16MiB");
  std::string_view unit = v.substr(i);
  static const std::map<std::string_view, uint64_t> kUnits = {
      {"", 1},           {"B", 1},
      {"K", 1ull << 10}, {"KiB", 1ull << 10},
      {"M", 1ull << 20}, {"MiB", 1ull << 20},
      {"G", 1ull << 30}, {"GiB", 1ull << 30}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) Fail(flag, v, "unknown unit (use K, M, G)");
  if (*n > (1ull << 31) / it->second) Fail(flag, v, "larger than 2 GiB");
  uint64_t bytes = *n * it->second;
  if (bytes < 4096) Fail(flag, v, "must be at least 4096 bytes");
  return static_cast<size_t>(bytes);
}

std::string NormalizeListenAddress(std::string_view flag, std::string_view v) {
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) Fail(flag, v, "expected HOST:PORT");
  std::string_view host = v.substr(0, colon);
  auto port = ParseUint(v.substr(colon + 1));
  if (!port || *port > 65535) Fail(flag, v, "port must be 0-65535");
  std::string p = std::to_string(*port);
  if (host.empty()) return p;  // all IPv4 addresses
  if (host.front() == '[') {
    if (host.back() != ']') Fail(flag, v, "unterminated [IPv6] address");
    std::string a(host.substr(1, host.size() - 2));
    in6_addr tmp;
    if (inet_pton(AF_INET6, a.c_str(), &tmp) != 1) {
      Fail(flag, v, "not an IPv6 address");
    }
    return "[" + a + "]:" + p;
  }
  std::string a(host);
  if (a == "localhost") a = "127.0.0.1";
  in_addr tmp;
  if (inet_pton(AF_INET, a.c_str(), &tmp) != 1) {
    Fail(flag, v, "host must be an IPv4 address, [IPv6] or empty");
  }
  return a + ":" + p;
}

namespace {

using Setter = void (*)(DaemonOptions&, std::string_view flag,
                        std::string_view v);

// Every flag that takes a value, and how it sets the options.
const std::map<std::string_view, Setter>& DaemonFlags() {
  static const std::map<std::string_view, Setter> kFlags = {
      {"--web.listen-address",
       [](DaemonOptions& o, auto f, auto v) {
         NormalizeListenAddress(f, v);
         o.listen_addresses.emplace_back(v);
       }},
      {"--web.telemetry-path",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty() || v.front() != '/' || v == "/") {
           Fail(f, v, "must be a path starting with / (not / itself)");
         }
         o.telemetry_path = std::string(v);
       }},
      {"--web.config.file",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty path");
         o.web_config_file = std::string(v);
       }},
      {"--web.flows-api",
       [](DaemonOptions& o, auto f, auto v) {
         // Empty (a config file's "") keeps the default.
         if (!v.empty() && v != "local" && v != "all" && v != "off") {
           Fail(f, v, "must be local, all or off");
         }
         o.flows_api = std::string(v);
       }},
      {"--config",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty path");
         o.config_file = std::string(v);
       }},
      {"--resync-interval",
       [](DaemonOptions& o, auto f, auto v) {
         o.resync_interval = ParseDuration(f, v);
       }},
      {"--netlink.buffer-size",
       [](DaemonOptions& o, auto f, auto v) {
         o.buffer_size = ParseByteSize(f, v);
       }},
      {"--netlink.buffer-max",
       [](DaemonOptions& o, auto f, auto v) {
         o.buffer_max = ParseByteSize(f, v);
       }},
      {"--netns",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty namespace name");
         o.netns.emplace_back(v);
       }},
      {"--netns.discover-interval",
       [](DaemonOptions& o, auto f, auto v) {
         auto d = ParseDuration(f, v);
         if (d < std::chrono::milliseconds(500)) Fail(f, v, "at least 500ms");
         o.netns_discover_interval = d;
       }},
      {"--netns.detail",
       [](DaemonOptions& o, auto f, auto v) {
         if (v != "summary" && v != "full") Fail(f, v, "summary or full");
         o.netns_detail_full = v == "full";
       }},
      {"--netns.detail-full",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty() || v.find('*') < v.size() - 1) {
           Fail(f, v, "a netns label, or a prefix ending in *");
         }
         o.netns_detail_full_for.emplace_back(v);
       }},
      {"--netns.runtime-dir",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty() || v.front() != '/')
           Fail(f, v, "must be an absolute path");
         o.runtime_dirs.emplace_back(v);
       }},
      {"--ingest.threads",
       [](DaemonOptions& o, auto f, auto v) {
         auto n = ParseUint(v);
         if (!n || *n > 256)
           Fail(f, v, "a number from 0 (one per core) to 256");
         o.ingest_threads = static_cast<size_t>(*n);
       }},
      {"--control.socket",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty() || v.front() != '/')
           Fail(f, v, "must be an absolute path");
         o.control_socket = std::string(v);
         o.control_socket_set = true;
       }},
      {"--control.socket-group",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty group name");
         o.control_socket_group = std::string(v);
       }},
      {"--sync.mode",
       [](DaemonOptions& o, auto f, auto v) {
         if (v == "notrack") {
           o.sync.mode = SyncMode::kNotrack;
         } else if (v == "ftfw") {
           o.sync.mode = SyncMode::kFtfw;
         } else if (v == "alarm") {
           o.sync.mode = SyncMode::kAlarm;
         } else if (v == "off") {
           o.sync.mode = SyncMode::kOff;
         } else {
           Fail(f, v, "use notrack, ftfw, alarm or off");
         }
       }},
      {"--sync.transport",
       [](DaemonOptions& o, auto f, auto v) {
         if (v == "udp") {
           o.sync.transport = SyncTransport::kUdp;
         } else if (v == "multicast") {
           o.sync.transport = SyncTransport::kMulticast;
         } else if (v == "tcp") {
           o.sync.transport = SyncTransport::kTcp;
         } else {
           Fail(f, v, "use udp, multicast or tcp");
         }
       }},
      {"--sync.listen-address",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty address");
         o.sync.listen_address = std::string(v);
       }},
      {"--sync.peer",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty address");
         o.sync.peers.emplace_back(v);
       }},
      {"--sync.multicast-group",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty group");
         o.sync.multicast_group = std::string(v);
       }},
      {"--sync.interface",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty() || v.size() >= 16) Fail(f, v, "not an interface name");
         o.sync.interface = std::string(v);
       }},
      {"--sync.hmac-key-file",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty path");
         o.sync.hmac_key_file = std::string(v);
       }},
      {"--sync.ack-window",
       [](DaemonOptions& o, auto f, auto v) {
         auto n = ParseNumber(std::string(v), 1u << 20);
         if (!n || *n == 0) Fail(f, v, "a number from 1 to 1048576");
         o.sync.ack_window = static_cast<uint32_t>(*n);
       }},
      {"--sync.resend-queue-size",
       [](DaemonOptions& o, auto f, auto v) {
         auto n = ParseNumber(std::string(v), 1u << 24);
         if (!n) Fail(f, v, "a number up to 16777216");
         o.sync.resend_queue_size = static_cast<uint32_t>(*n);
       }},
      {"--sync.refresh-time",
       [](DaemonOptions& o, auto f, auto v) {
         auto d = ParseDuration(f, v);
         if (d.count() < 1000) Fail(f, v, "at least 1s");
         o.sync.refresh_time =
             std::chrono::duration_cast<std::chrono::seconds>(d);
       }},
      {"--sync.cache-timeout",
       [](DaemonOptions& o, auto f, auto v) {
         auto d = ParseDuration(f, v);
         if (d.count() < 1000) Fail(f, v, "at least 1s");
         o.sync.cache_timeout =
             std::chrono::duration_cast<std::chrono::seconds>(d);
       }},
      {"--sync.mtu",
       [](DaemonOptions& o, auto f, auto v) {
         auto n = ParseNumber(std::string(v), 65535);
         if (!n || *n < 576) Fail(f, v, "a number from 576 to 65535");
         o.sync.mtu = static_cast<uint32_t>(*n);
       }},
      {"--sync.receive-buffer",
       [](DaemonOptions& o, auto f, auto v) {
         const size_t n = ParseByteSize(f, v);
         if (n < 4096 || n > (1u << 30)) Fail(f, v, "from 4K to 1G");
         o.sync.rcvbuf = static_cast<int>(n);
       }},
      {"--conntrackd.config",
       [](DaemonOptions& o, auto f, auto v) {
         if (v.empty()) Fail(f, v, "empty path");
         o.conntrackd_config = std::string(v);
       }},
      {"--top.enabled",
       [](DaemonOptions& o, auto f, auto v) {
         if (v == "true" || v == "yes" || v == "on" || v == "1") {
           o.top_enabled = true;
         } else if (v == "false" || v == "no" || v == "off" || v == "0") {
           o.top_enabled = false;
         } else {
           Fail(f, v, "use true or false");
         }
       }},
      {"--top.min-share",
       [](DaemonOptions& o, auto f, auto v) {
         // Below the sketch's own precision (0.1% of the table) a series
         // would say more than is known, and there could be a thousand.
         const std::string s(v);
         char* end = nullptr;
         const double d = s.empty() ? 0 : std::strtod(s.c_str(), &end);
         if (s.empty() || end != s.c_str() + s.size() || !(d >= 0.001) ||
             !(d <= 1)) {
           Fail(f, v, "a fraction from 0.001 to 1, e.g. 0.01");
         }
         o.top_min_share = d;
       }},
      {"--log.level",
       [](DaemonOptions& o, auto f, auto v) {
         auto l = ParseLogLevel(v);
         if (!l) Fail(f, v, "use debug, info, warn or error");
         o.log_level = *l;
       }},
  };
  return kFlags;
}

}  // namespace

bool ApplyDaemonFlag(std::string_view name, std::string_view value,
                     DaemonOptions* out) {
  auto it = DaemonFlags().find(name);
  if (it == DaemonFlags().end()) return false;
  it->second(*out, name, value);
  return true;
}

bool* DaemonSwitch(std::string_view name, DaemonOptions* o) {
  if (name == "--conntrack.enable-accounting") return &o->enable_accounting;
  if (name == "--sync.expectation-sync") return &o->sync.expectation_sync;
  if (name == "--netns.discover") return &o->netns_discover;
  return nullptr;
}

void FinishDaemonOptions(DaemonOptions* o) {
  if (o->buffer_max < o->buffer_size) {
    throw ConfigError("--netlink.buffer-max (" + std::to_string(o->buffer_max) +
                      ") is smaller than --netlink.buffer-size (" +
                      std::to_string(o->buffer_size) + ")");
  }
  if (o->listen_addresses.empty()) {
    o->listen_addresses.emplace_back(kDefaultListenAddress);
  }
  if (!o->conntrackd_config.empty()) {
    ConntrackdConf c = ReadConntrackdConf(o->conntrackd_config);
    // What conntrackd.conf cannot say stays as the flags set it.
    const SyncOptions own = o->sync;
    o->sync = c.sync;
    o->sync.hmac_key_file = own.hmac_key_file;
    if (own.mtu != 0) o->sync.mtu = own.mtu;
    if (own.expectation_sync) o->sync.expectation_sync = true;
    for (const auto& w : c.warnings) {
      Log(LogLevel::kWarn, o->conntrackd_config + ":" + w);
    }
    if (!c.unix_path.empty() && !o->control_socket_set) {
      o->control_socket = c.unix_path;
    }
  }
}

DaemonOptions ParseDaemonOptions(const std::vector<std::string>& args,
                                 DaemonOptions base) {
  DaemonOptions o = std::move(base);
  bool listen_from_flags = false, netns_from_flags = false,
       peers_from_flags = false, runtime_dirs_from_flags = false,
       detail_full_from_flags = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--version") {
      o.show_version = true;
      continue;
    }
    if (bool* b = DaemonSwitch(a, &o)) {
      *b = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      o.show_help = true;
      continue;
    }
    std::string_view name = a, value;
    bool has_value = false;
    if (size_t eq = a.find('='); eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (DaemonFlags().count(name) == 0) {
      throw ConfigError("unknown flag " + std::string(name) +
                        " (see ctcollectd --help)");
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        throw ConfigError("flag " + std::string(name) + " needs a value");
      }
      value = args[++i];
    }
    // A repeatable flag given on the command line replaces the config
    // file's list instead of adding to it.
    if (name == "--web.listen-address" && !listen_from_flags) {
      o.listen_addresses.clear();
      listen_from_flags = true;
    }
    if (name == "--netns" && !netns_from_flags) {
      o.netns.clear();
      netns_from_flags = true;
    }
    if (name == "--netns.detail-full" && !detail_full_from_flags) {
      o.netns_detail_full_for.clear();
      detail_full_from_flags = true;
    }
    if (name == "--netns.runtime-dir" && !runtime_dirs_from_flags) {
      o.runtime_dirs.clear();
      runtime_dirs_from_flags = true;
    }
    if (name == "--sync.peer" && !peers_from_flags) {
      o.sync.peers.clear();
      peers_from_flags = true;
    }
    ApplyDaemonFlag(name, value, &o);
  }
  FinishDaemonOptions(&o);
  return o;
}

std::string DaemonUsage() {
  return R"(Usage: ctcollectd [flags]

Collects Linux connection-tracking statistics from ctnetlink and serves
them as Prometheus metrics.

Flags:
  --web.listen-address=ADDR  address to serve HTTP on, HOST:PORT, :PORT or
                             [IPv6]:PORT; repeatable (default ":10034")
  --web.telemetry-path=PATH  path of the metrics endpoint (default /metrics)
  --web.config.file=FILE     TLS and basic auth settings, in the Prometheus
                             exporter-toolkit format (YAML)
  --web.flows-api=WHO        who may read /api/v1/flows and /api/v1/top
                             (they reveal addresses): local
                             (loopback clients), all, or off; default all
                             when --web.config.file makes every client
                             authenticate, else local
  --config=FILE              the YAML config file; flags override it
  --resync-interval=DUR      full table dump every DUR, e.g. 60s, 5m
                             (default 60s); also after any event loss
  --netlink.buffer-size=SIZE event socket receive buffer (default 32M)
  --netlink.buffer-max=SIZE  cap when the buffer grows after an overrun
                             (default 512M)
  --netns=NAME|PATH          watch this network namespace (/run/netns/NAME
                             or a path such as /proc/PID/ns/net);
                             repeatable; default: the daemon's own
  --netns.discover           watch every network namespace of the host as
                             well: each /proc/PID/ns/net and nsfs mount
                             (/run/netns and the like), labelled by ip netns
                             name, pod (NAMESPACE/NAME) or inode:N
  --netns.discover-interval=DUR
                             how often to look for namespaces (default 5s;
                             /run/netns is watched with inotify besides)
  --netns.detail=D           series for discovered namespaces: summary
                             (default; at most 25 for an idle one) or full
  --netns.detail-full=LABEL  the whole catalogue for the discovered
                             namespaces of this label, or of a prefix ending
                             in * (e.g. kube-system/*); repeatable
  --netns.runtime-dir=DIR    where a container runtime keeps its task
                             bundles (pod names); repeatable; default the
                             containerd, k3s and CRI-O ones
  --ingest.threads=N         threads reading every namespace's events
                             (default 0: one per core)
  --conntrack.enable-accounting
                             set nf_conntrack_acct and nf_conntrack_timestamp
                             to 1 in the watched namespaces (flow bytes,
                             packets and durations need them; off by default)
  --top.enabled=BOOL         rank sources, destinations, ports and SNAT
                             tuples by entries (/api/v1/top, the client's
                             top rankings, conntrack_top_entries); default
                             true
  --top.min-share=FRACTION   a key gets a conntrack_top_entries series while
                             it holds this share of its namespace's table
                             (default 0.01: at most 100 per ranking)
  --control.socket=PATH      control socket for ctcollect and conntrackd
                             clients (default /run/ctcollectd/ctl.sock)
  --control.socket-group=GROUP
                             group owning the control socket (mode 0660)
  --sync.mode=MODE           replication peer mode, as conntrackd's Sync
                             section: notrack, ftfw or alarm (default off)
  --sync.transport=T         udp (default), multicast or tcp
  --sync.listen-address=ADDR:PORT
                             where peer messages arrive (udp, tcp); with
                             multicast, the local address to join from
  --sync.peer=ADDR[:PORT]    a peer: where to send, and the only sources
                             accepted; repeatable
  --sync.multicast-group=GROUP:PORT
                             multicast group (e.g. 225.0.0.50:3780)
  --sync.interface=IFNAME    interface of the sync link
  --sync.hmac-key-file=FILE  HMAC-SHA256 of every datagram with this key
                             (ctcollectd peers only: conntrackd has none)
  --sync.expectation-sync    replicate expectations too (ExpectationSync)
  --sync.ack-window=N        FT-FW ACKWindowSize (default 300)
  --sync.resend-queue-size=N FT-FW ResendQueueSize (default 131072)
  --sync.refresh-time=DUR    ALARM RefreshTime (default 15s)
  --sync.cache-timeout=DUR   ALARM CacheTimeout (default 180s)
  --sync.receive-buffer=SIZE receive buffer of the sync socket (default
                             16M: a peer's bulk send comes in a burst)
  --sync.mtu=N               largest datagram + 28 (default: the
                             interface's MTU)
  --conntrackd.config=FILE   take the Sync section and the UNIX socket path
                             from an existing conntrackd.conf
  --log.level=LEVEL          debug, info, warn or error (default info)
  --version                  print the version and exit
  --help                     print this help and exit

A bad flag or value exits with status 78 before anything starts.
)";
}

}  // namespace ctcollect
