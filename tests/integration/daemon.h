// ctcollectd as a child process of a test: started with a free loopback
// port and a control socket of its own, waited for until ready, stopped at
// the end. Its stderr goes to a file that failures print.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace ctcollect::itest {

// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int FreePort();

// GET http://127.0.0.1:port/path; returns the status (0 if no answer) and
// the body.
int HttpGet(int port, const std::string& path, std::string* body);

class Daemon {
 public:
  // Starts ctcollectd with `args` plus --web.listen-address and
  // --control.socket; waits up to 20 s for /-/ready.
  explicit Daemon(const std::vector<std::string>& args);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  bool ready() const { return ready_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  std::string log() const;
  // /metrics parsed: "name{sorted labels}" -> value.
  std::map<std::string, double> Metrics() const;
  std::string Get(const std::string& path) const;
  // Waits for the next completed resync (ctcollect_resyncs_total grows and
  // the dump timestamp moves), up to `seconds`.
  bool WaitForResync(const std::string& netns, double seconds) const;
  // When the last complete dump finished, and a wait for a later one.
  double LastResync(const std::string& netns) const;
  bool WaitForResyncAfter(const std::string& netns, double stamp,
                          double seconds) const;
  // Runs ctcollect against this daemon.
  std::string Client(const std::string& args, int* exit_code = nullptr) const;
  int Stop();  // SIGTERM, returns the exit status
  // Waits for the daemon to exit by itself; its exit status, or -1.
  int WaitExit(double seconds);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
  std::string dir_, socket_, log_path_;
};

}  // namespace ctcollect::itest
