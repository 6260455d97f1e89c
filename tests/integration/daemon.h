// ctcollectd as a child process of a test: started with a free loopback
// port and a control socket of its own, waited for until ready, stopped at
// the end (SIGTERM, then SIGKILL). Its stdout and stderr go to a file that
// failures print (log()).
//
// Thread safety: one thread owns a Daemon; the const members only read.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace ctcollect::itest {

// Under a sanitizer (the asan and tsan presets build the daemon with it
// too) the daemon runs several times slower, and ASan keeps freed memory
// in quarantine: storms meant to lose nothing are paced, and memory bounds
// are only checked in plain builds.
#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer slows the daemon more than ASan does: at 15000 flows/s
// its ingest thread fell behind 100 scraping clients on 2 cores and
// overran (a lost event, not a race).
inline constexpr bool kSanitized = true;
inline constexpr char kStormPace[] = " --rate 6000";
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
inline constexpr char kStormPace[] = " --rate 15000";
#else
inline constexpr bool kSanitized = false;
inline constexpr char kStormPace[] = "";
#endif

// A number from /proc/PID/status ("VmRSS", "Threads", ...); -1 if the
// process or the field is gone.
int64_t ProcStatus(pid_t pid, const std::string& field);
// VmRSS of a process in KiB, -1 if it is gone.
inline int64_t RssKiB(pid_t pid) { return ProcStatus(pid, "VmRSS"); }

// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int FreePort();

// GET http://127.0.0.1:port/path over a plain socket (HTTP/1.0, so the body
// ends when the server closes); returns the status (0 if no answer) and
// the body. With `netns_path`, the connection is made from that network
// namespace (by a thread that setns() into it).
int HttpGet(int port, const std::string& path, std::string* body,
            const std::string& netns_path = "");

class Daemon {
 public:
  struct Options {
    // Run ctcollectd inside this named namespace (`ip netns exec`); its
    // HTTP listener is then there too and Get() connects from there.
    std::string run_in_netns;
    // Seconds to wait for /-/ready; 0 = do not wait.
    double ready_deadline = 20;
    // The port on 127.0.0.1 to serve on; 0 = a free one.
    int port = 0;
    // Extra environment ("NAME=VALUE") for the daemon.
    std::vector<std::string> env;
    // Run as this user (its primary group), holding only CAP_NET_ADMIN
    // (setpriv), as the systemd unit does; "" = as the test (root). The
    // daemon's temp dir is then theirs.
    std::string run_as_user;
  };

  // Starts ctcollectd with --web.listen-address=127.0.0.1:<free port>,
  // --control.socket=<temp dir>/ctl.sock and `args`; waits for /-/ready.
  explicit Daemon(const std::vector<std::string>& args);
  Daemon(const std::vector<std::string>& args, const Options& options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  bool ready() const { return ready_; }
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  // What the daemon wrote to stdout and stderr so far.
  std::string log() const;

  // GET `path` from the daemon; the status, or 0 if it did not answer.
  int Get(const std::string& path, std::string* body) const;
  std::string Get(const std::string& path) const;
  // /metrics parsed: "name{sorted labels}" -> value. Malformed lines and
  // duplicate series go to `errors` if given.
  std::map<std::string, double> Metrics(
      std::vector<std::string>* errors = nullptr) const;

  // Waits for the next completed resync (the dump timestamp moves), up to
  // `seconds`.
  bool WaitForResync(const std::string& netns, double seconds) const;
  // When the last complete dump finished, and a wait for a later one.
  double LastResync(const std::string& netns) const;
  bool WaitForResyncAfter(const std::string& netns, double stamp,
                          double seconds) const;
  // Runs ctcollect against this daemon.
  std::string Client(const std::string& args, int* exit_code = nullptr) const;
  // SIGTERM, then SIGKILL after 5 s; returns the exit status (-1 if killed).
  int Stop();
  // Waits for the daemon to exit by itself; its exit status, or -1.
  int WaitExit(double seconds);

 private:
  void Start(const std::vector<std::string>& args);

  Options options_;
  std::string netns_path_;  // where Get() connects from; "" = here
  pid_t pid_ = -1;
  int port_ = 0;
  bool ready_ = false;
  std::string dir_, socket_, log_path_;
};

}  // namespace ctcollect::itest
