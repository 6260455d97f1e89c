#include "tests/integration/sync_pair.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace ctcollect::itest {
namespace {

constexpr char kIp[] = "/usr/sbin/ip";
constexpr char kConntrackd[] = "/usr/sbin/conntrackd";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const char* ModeName(ConntrackdPeer::Mode mode) {
  switch (mode) {
    case ConntrackdPeer::Mode::kNotrack:
      return "NOTRACK";
    case ConntrackdPeer::Mode::kAlarm:
      return "ALARM";
    case ConntrackdPeer::Mode::kFtfw:
      break;
  }
  return "FTFW";
}

}  // namespace

VethPair::VethPair(int sync_port) : sync_port_(sync_port) {
  static std::atomic<int> n{0};
  // The kernel's IFNAMSIZ is 16: at most 15 characters ("ctv" + 6 + "-" +
  // 3 + "a" = 14).
  std::string base = "ctv" + std::to_string(getpid() % 1000000) + "-" +
                     std::to_string(n++ % 1000);
  ifname_a_ = base + "a";
  ifname_b_ = base + "b";
  ok_ = Setup();
}

bool VethPair::Setup() {
  if (!a_.ok() || !b_.ok()) {
    error_ = !a_.ok() ? a_.error() : b_.error();
    return false;
  }
  // Made inside a with its peer end put straight into b: nothing touches
  // the root namespace.
  CommandResult link =
      Shell(std::string(kIp) + " -n " + a_.name() + " link add " + ifname_a_ +
            " type veth peer name " + ifname_b_ + " netns " + b_.name());
  if (link.exit_code != 0) {
    error_ = "ip link add veth " + ifname_a_ + ": " + link.out;
    return false;
  }
  // The same five rules in output and prerouting, at raw priority.
  const std::string p = std::to_string(sync_port_);
  std::string rules;
  for (const char* proto : {"udp", "tcp"}) {
    rules += std::string(proto) + " dport " + p + " notrack; " + proto +
             " sport " + p + " notrack; ";
  }
  rules += "ip daddr 224.0.0.0/4 notrack;";
  const std::string ruleset =
      "table inet ctct_sync {\n"
      "  chain out { type filter hook output priority raw; " +
      rules +
      " }\n"
      "  chain pre { type filter hook prerouting priority raw; " +
      rules +
      " }\n"
      "}\n";
  struct End {
    const TestNetns& ns;
    const std::string& ifname;
    std::string addr;
  };
  for (const End& end :
       {End{a_, ifname_a_, addr_a()}, End{b_, ifname_b_, addr_b()}}) {
    CommandResult r =
        end.ns.Run("sysctl -qw net.ipv6.conf." + end.ifname +
                   ".disable_ipv6=1" + " && ip addr add " + end.addr +
                   "/24 dev " + end.ifname + " && ip link set " + end.ifname +
                   " up" + " && ip route add 224.0.0.0/4 dev " + end.ifname +
                   " && nft -f - <<'EOF'\n" + ruleset + "EOF");
    if (r.exit_code != 0) {
      error_ =
          "setting up " + end.ifname + " in " + end.ns.name() + ": " + r.out;
      return false;
    }
  }
  return true;
}

void VethPair::ClearLoss() {
  if (loss_mechanism_ == "netem") {
    a_.Run("tc qdisc del dev " + ifname_a_ + " root");
    b_.Run("tc qdisc del dev " + ifname_b_ + " root");
  } else if (loss_mechanism_ == "nft") {
    a_.Run("nft delete table netdev ctct_loss");
    b_.Run("nft delete table netdev ctct_loss");
  }
  loss_mechanism_.clear();
}

bool VethPair::SetLoss(int percent) {
  if (!ok_ || percent < 0 || percent > 100) return false;
  ClearLoss();
  if (percent == 0) return true;
  const std::string pc = std::to_string(percent);
  auto netem = [&pc](const TestNetns& ns, const std::string& ifname) {
    return ns.Run("tc qdisc replace dev " + ifname + " root netem loss " + pc +
                  "%")
               .exit_code == 0;
  };
  if (netem(a_, ifname_a_) && netem(b_, ifname_b_)) {
    loss_mechanism_ = "netem";
    return true;
  }
  a_.Run("tc qdisc del dev " + ifname_a_ + " root");
  loss_mechanism_ = "nft";  // from here on, ClearLoss() removes the tables
  // numgen's range is 0-99: nft refuses "< 100".
  const std::string match =
      percent == 100 ? "" : " numgen random mod 100 < " + pc;
  const std::pair<const TestNetns*, std::string> ends[] = {{&a_, ifname_a_},
                                                           {&b_, ifname_b_}};
  for (const auto& [ns, ifname] : ends) {
    const std::string table =
        "table netdev ctct_loss { chain in { type "
        "filter hook ingress device \"" +
        ifname + "\" priority 0; meta protocol ip" + match + " drop; }\n}\n";
    CommandResult r = ns->Run("nft -f - <<'EOF'\n" + table + "EOF");
    if (r.exit_code != 0) {
      ClearLoss();
      return false;
    }
  }
  return true;
}

ConntrackdPeer::Options ConntrackdPeer::ForSide(const VethPair& pair, char side,
                                                Mode mode,
                                                Transport transport) {
  Options o;
  o.mode = mode;
  o.transport = transport;
  o.port = pair.sync_port();
  bool a = side == 'a';
  o.local_address = a ? pair.addr_a() : pair.addr_b();
  o.peer_address = a ? pair.addr_b() : pair.addr_a();
  o.interface = a ? pair.ifname_a() : pair.ifname_b();
  return o;
}

std::string ConntrackdPeer::ConfigText(const Options& o,
                                       const std::string& dir) {
  std::string c;
  auto line = [&c](int depth, const std::string& text) {
    c += std::string(depth, '\t') + text + "\n";
  };
  line(0, "Sync {");
  line(1, "Mode " + std::string(ModeName(o.mode)) + " {");
  if (o.mode == Mode::kAlarm) {
    line(2, "RefreshTime " + std::to_string(o.alarm_refresh_seconds));
    line(2, "CacheTimeout " + std::to_string(o.alarm_cache_timeout_seconds));
  }
  c += o.extra_mode;
  line(1, "}");
  if (o.transport == Transport::kMulticast) {
    line(1, "Multicast {");
    line(2, "IPv4_address " + o.multicast_group);
    line(2, "Group " + std::to_string(o.port));
    line(2, "IPv4_interface " + o.local_address);
  } else {
    line(1, o.transport == Transport::kTcp ? "TCP {" : "UDP {");
    line(2, "IPv4_address " + o.local_address);
    line(2, "IPv4_Destination_Address " + o.peer_address);
    line(2, "Port " + std::to_string(o.port));
  }
  if (!o.interface.empty()) line(2, "Interface " + o.interface);
  line(2, "Checksum on");
  line(1, "}");
  if (o.expectation_sync) {
    line(1, "Options {");
    line(2, "ExpectationSync On");
    line(1, "}");
  }
  c += o.extra_sync;
  line(0, "}");
  line(0, "General {");
  line(1, "Systemd off");
  line(1, "HashSize 8192");
  line(1, "HashLimit 65536");
  line(1, "LogFile " + dir + "/conntrackd.log");
  line(1, "Syslog off");
  line(1, "LockFile " + dir + "/conntrackd.lock");
  line(1, "UNIX {");
  line(2, "Path " + dir + "/conntrackd.sock");
  line(1, "}");
  line(1, "NetlinkBufferSize 2097152");
  line(1, "NetlinkBufferSizeMaxGrowth 8388608");
  c += o.extra_general;
  line(0, "}");
  return c;
}

ConntrackdPeer::ConntrackdPeer(const TestNetns& ns, const Options& options)
    : ns_(ns), options_(options) {
  char tmpl[] = "/tmp/ctct-conntrackd-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  config_path_ = dir_ + "/conntrackd.conf";
  socket_path_ = dir_ + "/conntrackd.sock";
  log_path_ = dir_ + "/conntrackd.log";
  console_path_ = dir_ + "/console.log";
  {
    std::ofstream f(config_path_);
    f << ConfigText(options_, dir_);
    if (!f) {
      error_ = "cannot write " + config_path_;
      return;
    }
  }
  int fd = open(console_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                0644);
  // `ip netns exec` execs conntrackd after setns: the pid stays ours.
  std::vector<std::string> argv = {
      kIp, "netns", "exec", ns_.name(), kConntrackd, "-C", config_path_};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // A test killed by its timeout takes conntrackd with it (the death
    // signal survives the two execs); else it would live on in a deleted
    // namespace.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  if (fd >= 0) close(fd);
  if (pid_ < 0) {
    error_ = "fork failed";
    return;
  }
  if (options_.ready_deadline <= 0) return;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(
                      static_cast<int>(options_.ready_deadline * 1000));
  while (true) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "conntrackd exited at start (status " +
               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
               ")";
      return;
    }
    if (Client("-s").exit_code == 0) {
      ready_ = true;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error_ = "conntrackd did not answer -s within " +
           std::to_string(options_.ready_deadline) + " s";
}

ConntrackdPeer::~ConntrackdPeer() {
  Stop();
  if (!dir_.empty()) Shell("rm -rf " + ShellQuote(dir_));
}

int ConntrackdPeer::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 60; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

std::string ConntrackdPeer::log() const {
  return "--- " + log_path_ + "\n" + ReadFile(log_path_) + "--- " +
         console_path_ + "\n" + ReadFile(console_path_);
}

CommandResult ConntrackdPeer::Client(const std::string& args) const {
  return ns_.RunSplit(std::string(kConntrackd) + " -C " +
                      ShellQuote(config_path_) + " " + args);
}

CommandResult InjectFlow(const TestNetns& ns,
                         const std::string& conntrack_args) {
  return ns.Run("conntrack -I " + conntrack_args);
}

std::vector<std::string> LinesWith(const std::string& text,
                                   const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool all = true;
    for (const auto& n : needles) {
      if (line.find(n) == std::string::npos) {
        all = false;
        break;
      }
    }
    if (all) found.push_back(line);
  }
  return found;
}

}  // namespace ctcollect::itest
