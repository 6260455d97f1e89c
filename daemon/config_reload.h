// SIGHUP: re-reads the config file (and re-applies the same flags on top)
// and applies what can change while the daemon runs, without losing a
// counter: the flow classes, the resync interval and the log level. A
// setting that needs a restart (listen addresses, namespaces, sockets,
// buffer sizes) is named in the log and left as it was. A file that does
// not load leaves everything as it was.
//
// Thread safety: call from one thread (the main thread's signal loop).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/config/options.h"
#include "collector/watch/netns_set.h"

namespace ctcollect {

// The settings that differ between `running` and `loaded` but only take
// effect after a restart, by flag name.
std::vector<std::string> SettingsNeedingRestart(const DaemonOptions& running,
                                                const DaemonOptions& loaded);

// The classifier for the options' flow classes; nullptr when there are none.
std::shared_ptr<const FlowClassifier> MakeClassifier(const DaemonOptions& o);

class ConfigReloader {
 public:
  ConfigReloader(std::vector<std::string> args, DaemonOptions running,
                 NetnsSet* collector)
      : args_(std::move(args)),
        running_(std::move(running)),
        collector_(collector) {}

  // Reloads; returns false (and logs why) if the config did not load.
  bool Reload();
  const DaemonOptions& running() const { return running_; }

 private:
  std::vector<std::string> args_;
  DaemonOptions running_;
  NetnsSet* collector_;
};

}  // namespace ctcollect
