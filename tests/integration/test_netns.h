// A network namespace made for one test and deleted after it, with
// conntrack turned on by a ruleset, and a way to run commands inside it.
#pragma once

#include <string>

namespace ctcollect::itest {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command line; captures its output.
CommandResult Shell(const std::string& cmd);

// Why this process cannot run the integration tests ("" if it can).
std::string MissingPrivilege();

class TestNetns {
 public:
  TestNetns();  // creates ctct-<pid>-<n>; check ok()
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  // Runs `cmd` inside the namespace.
  CommandResult Run(const std::string& cmd) const;

 private:
  std::string name_;
  bool ok_ = false;
};

}  // namespace ctcollect::itest
