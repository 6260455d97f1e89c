#include "tests/integration/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/prom_text.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {
namespace {

int HttpGetHere(int port, const std::string& path, std::string* body) {
  body->clear();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return 0;
  }
  // HTTP/1.0: no chunked encoding, the body ends at close.
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(req.size())) {
    close(fd);
    return 0;
  }
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return 0;
  *body = resp.substr(end + 4);
  return std::atoi(resp.c_str() + resp.find(' ') + 1);
}

}  // namespace

int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return -1;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

int HttpGet(int port, const std::string& path, std::string* body,
            const std::string& netns_path) {
  if (netns_path.empty()) return HttpGetHere(port, path, body);
  // setns(CLONE_NEWNET) moves only the calling thread: a thread of its own
  // makes the socket there and leaves the test's threads where they are.
  int status = 0;
  std::thread t([&] {
    int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return;
    if (setns(ns, CLONE_NEWNET) == 0) status = HttpGetHere(port, path, body);
    close(ns);
  });
  t.join();
  return status;
}

Daemon::Daemon(const std::vector<std::string>& args) : Daemon(args, {}) {}

Daemon::Daemon(const std::vector<std::string>& args, const Options& options)
    : options_(options) {
  if (!options_.run_in_netns.empty()) {
    netns_path_ = "/run/netns/" + options_.run_in_netns;
  }
  Start(args);
}

void Daemon::Start(const std::vector<std::string>& args) {
  char tmpl[] = "/tmp/ctct-daemon-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return;
  dir_ = tmpl;
  socket_ = dir_ + "/ctl.sock";
  log_path_ = dir_ + "/stderr.log";
  // A port free here is free in a fresh namespace too.
  port_ = options_.port != 0 ? options_.port : FreePort();
  std::vector<std::string> argv;
  if (!options_.run_in_netns.empty()) {
    // `ip netns exec` execs the command after setns: the pid stays ours.
    argv = {"/usr/sbin/ip", "netns", "exec", options_.run_in_netns};
  }
  if (!options_.run_as_user.empty()) {
    passwd* pw = getpwnam(options_.run_as_user.c_str());
    if (pw == nullptr || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return;
    }
    // As the unit: no other capability, bounding set included, and none
    // to be gained by exec.
    argv.insert(argv.end(),
                {"/usr/bin/setpriv", "--reuid=" + std::to_string(pw->pw_uid),
                 "--regid=" + std::to_string(pw->pw_gid), "--clear-groups",
                 "--inh-caps=-all,+net_admin", "--ambient-caps=-all,+net_admin",
                 "--bounding-set=-all,+net_admin", "--no-new-privs"});
  }
  argv.insert(argv.end(),
              {CTCOLLECTD_PATH,
               "--web.listen-address=127.0.0.1:" + std::to_string(port_),
               "--control.socket=" + socket_});
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int fd =
      open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    for (const auto& e : options_.env) putenv(const_cast<char*>(e.c_str()));
    dup2(fd, 2);
    dup2(fd, 1);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(fd);
  if (pid_ < 0 || options_.ready_deadline <= 0) return;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(
                      static_cast<int>(options_.ready_deadline * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    std::string body;
    if (Get("/-/ready", &body) == 200) {
      ready_ = true;
      return;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Daemon::~Daemon() {
  Stop();
  if (!dir_.empty()) Shell("rm -rf " + ShellQuote(dir_));
}

int Daemon::WaitExit(double seconds) {
  if (pid_ <= 0) return -1;
  int status = 0;
  for (int i = 0; i < static_cast<int>(seconds * 20); ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

int Daemon::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int rc = WaitExit(5);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return rc;
}

std::string Daemon::log() const {
  std::ifstream f(log_path_);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int Daemon::Get(const std::string& path, std::string* body) const {
  return HttpGet(port_, path, body, netns_path_);
}

std::string Daemon::Get(const std::string& path) const {
  std::string body;
  Get(path, &body);
  return body;
}

std::map<std::string, double> Daemon::Metrics(
    std::vector<std::string>* errors) const {
  return ParsePromText(Get("/metrics"), errors);
}

double Daemon::LastResync(const std::string& netns) const {
  return Metrics()[Series("ctcollect_resync_last_timestamp_seconds",
                          {{"netns", netns}})];
}

bool Daemon::WaitForResyncAfter(const std::string& netns, double stamp,
                                double seconds) const {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (LastResync(netns) > stamp) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool Daemon::WaitForResync(const std::string& netns, double seconds) const {
  return WaitForResyncAfter(netns, LastResync(netns), seconds);
}

std::string Daemon::Client(const std::string& args, int* exit_code) const {
  CommandResult r = Shell(std::string(CTCOLLECT_PATH) + " --control.socket " +
                          socket_ + " " + args);
  if (exit_code) *exit_code = r.exit_code;
  return r.out;
}

}  // namespace ctcollect::itest
