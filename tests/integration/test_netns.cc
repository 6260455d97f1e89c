#include "tests/integration/test_netns.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

namespace ctcollect::itest {

CommandResult Shell(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string MissingPrivilege() {
  if (geteuid() != 0) return "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)";
  if (Shell("command -v conntrack && command -v nft && command -v ip")
          .exit_code != 0) {
    return "needs conntrack, nft and ip (scripts/install-deps.sh)";
  }
  return "";
}

TestNetns::TestNetns() {
  static std::atomic<int> n{0};
  name_ = "ctct-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  ok_ = Shell("ip netns add " + name_).exit_code == 0;
  if (!ok_) return;
  // A fresh namespace tracks no traffic until a ruleset uses conntrack.
  ok_ = Run("ip link set lo up").exit_code == 0 &&
        Run("nft add table inet ctct && nft add chain inet ctct out "
            "'{ type filter hook output priority 0; }' && nft add rule inet "
            "ctct out ct state new,established,related accept")
                .exit_code == 0;
}

TestNetns::~TestNetns() {
  Shell("ip netns pids " + name_ + " | xargs -r kill -9");
  Shell("ip netns del " + name_);
}

CommandResult TestNetns::Run(const std::string& cmd) const {
  std::string quoted = "'";
  for (char c : cmd) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return Shell("ip netns exec " + name_ + " sh -c " + quoted);
}

}  // namespace ctcollect::itest
