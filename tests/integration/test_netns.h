// A network namespace made for one test and deleted after it, with
// conntrack turned on by a ruleset, and a way to run commands inside it.
//
// Thread safety: Run() may be called from any thread while the namespace
// is neither deleted nor recreated. Shell() is reentrant.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ctcollect::itest {

struct CommandResult {
  int exit_code = -1;  // -1 if the command did not exit normally
  std::string out;     // stdout, with stderr unless it was asked apart
  std::string err;     // stderr when asked apart (ShellSplit, RunSplit)
};

// The nft ruleset (an `nft -f -` here-document) that makes a fresh
// namespace track its traffic: a namespace tracks none until a ruleset
// uses conntrack.
extern const char kTrackingRuleset[];

// Runs a /bin/sh command line; captures stdout and stderr together.
CommandResult Shell(const std::string& cmd);
// Runs a /bin/sh command line; captures stdout and stderr apart.
CommandResult ShellSplit(const std::string& cmd);

// Why this process cannot run the integration tests, "" if it can: needs
// CAP_NET_ADMIN and CAP_SYS_ADMIN, the tools, and `ip netns add` to work
// (checked once, with a namespace made and deleted at once).
std::string MissingPrivilege();

// Calls `probe` every 50 ms until it returns true (then true) or `seconds`
// have passed (then false; probe ran at least once).
bool WaitUntil(const std::function<bool()>& probe, double seconds);

// Quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

class TestNetns {
 public:
  // Creates ctct-<pid>-<n>, brings lo up and adds table inet ctct whose
  // input and output chains match `ct state`, so that the namespace tracks
  // its loopback traffic. Check ok() (and error() for why not).
  TestNetns();
  // Kills what still runs inside (only processes the test started there)
  // and deletes the namespace.
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Deletes the namespace now (killing what the test started inside), as
  // an operator's `ip netns delete` would; false if it could not.
  bool Delete();
  // Makes a namespace of the same name again, set up as the constructor
  // does (after Delete()); returns ok().
  bool Recreate();

  // Runs `cmd` (a /bin/sh command line) inside the namespace.
  CommandResult Run(const std::string& cmd) const;
  CommandResult RunSplit(const std::string& cmd) const;

  // TCP to or from `port` is not tracked (notrack at raw priority): e.g.
  // the HTTP scrapes of a daemon that listens inside the namespace.
  bool NoTrackTcpPort(int port) const;
  // No TCP over loopback is tracked: a daemon inside makes no flows there,
  // neither by its scrapes nor by its web front's relays to civetweb's
  // internal port (one loopback connection per request).
  bool NoTrackLoopbackTcp() const;
  // notrack rules at raw priority: each of `matches` is "out|pre MATCH".
  bool NoTrack(const std::vector<std::string>& matches) const;

 private:
  void Create();
  std::string name_;
  std::string error_;
  bool ok_ = false;
};

// True when the environment says this is a CI run (CI=true, as CI
// services set it). There a test that cannot run for want of privilege or
// of a tool the test command installs fails with the reason: a CI run must
// not turn green by skipping. A missing kernel feature may still skip.
bool InCi();

}  // namespace ctcollect::itest

// Skips the current test with `why` outside CI; fails it with `why` in CI.
#define SKIP_UNLESS_CI(why)                                          \
  do {                                                               \
    if (::ctcollect::itest::InCi()) {                                \
      GTEST_FAIL() << "CI=true and this test cannot run: " << (why); \
    }                                                                \
    GTEST_SKIP() << (why);                                           \
  } while (0)

// Skips the current test, saying why, when this process cannot make
// namespaces and talk ctnetlink (see MissingPrivilege); fails it in CI.
#define REQUIRE_PRIVILEGE()                                      \
  do {                                                           \
    std::string why = ::ctcollect::itest::MissingPrivilege();    \
    if (!why.empty()) SKIP_UNLESS_CI("integration test " + why); \
  } while (0)
