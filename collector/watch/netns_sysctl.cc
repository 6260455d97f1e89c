#include "collector/watch/netns_sysctl.h"

#include <cstdio>

#include "collector/base/log.h"

namespace ctcollect {

void WarnAboutEventSysctl(const std::string& where, bool quiet) {
  // Read while inside the namespace: /proc/sys/net shows the reader's.
  FILE* f = fopen("/proc/sys/net/netfilter/nf_conntrack_events", "r");
  if (f == nullptr) return;
  int mode = -1;
  if (fscanf(f, "%d", &mode) != 1) mode = -1;
  fclose(f);
  if (mode == 0) {
    Log(LogLevel::kWarn,
        where +
            ": net.netfilter.nf_conntrack_events=0, the kernel sends no "
            "conntrack events; figures change only at resync dumps");
  } else if (mode == 2) {
    // The kernel gives a flow its event cache only if a listener exists
    // when the flow is created: flows older than the daemon never send
    // UPDATE or DESTROY, and only the resync dumps see them go.
    Log(quiet ? LogLevel::kDebug : LogLevel::kInfo,
        where +
            ": net.netfilter.nf_conntrack_events=2: flows created before "
            "ctcollectd started send no events and are reconciled by "
            "the resync dumps (set it to 1 to have events for all flows)");
  }
}

void EnableAccounting(const std::string& where) {
  // Inside the namespace (the caller entered it): these sysctls are per
  // namespace. Only flows created from now on are accounted.
  for (const char* name : {"nf_conntrack_acct", "nf_conntrack_timestamp"}) {
    std::string path = std::string("/proc/sys/net/netfilter/") + name;
    FILE* f = fopen(path.c_str(), "r+");
    int v = -1;
    if (f == nullptr || fscanf(f, "%d", &v) != 1) {
      Log(LogLevel::kWarn, where + ": cannot read " + path);
      if (f) fclose(f);
      continue;
    }
    if (v == 1) {
      fclose(f);
      continue;
    }
    rewind(f);
    bool ok = fputs("1\n", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    Log(ok ? LogLevel::kNotice : LogLevel::kWarn,
        where +
            (ok ? ": set net.netfilter." : ": could not set net.netfilter.") +
            name + "=1 (was " + std::to_string(v) + ")");
  }
}

}  // namespace ctcollect
