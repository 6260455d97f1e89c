#include "tests/integration/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
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

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t l = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  close(fd);
  return ntohs(a.sin_port);
}

int HttpGet(int port, const std::string& path, std::string* body) {
  body->clear();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return 0;
  }
  // HTTP/1.0: no chunked encoding, the body ends at close.
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t sp = resp.find(' ');
  size_t end = resp.find("\r\n\r\n");
  if (sp == std::string::npos || end == std::string::npos) return 0;
  *body = resp.substr(end + 4);
  return std::atoi(resp.c_str() + sp + 1);
}

Daemon::Daemon(const std::vector<std::string>& args) {
  char tmpl[] = "/tmp/ctct-daemon-XXXXXX";
  dir_ = mkdtemp(tmpl);
  socket_ = dir_ + "/ctl.sock";
  log_path_ = dir_ + "/stderr.log";
  port_ = FreePort();
  std::vector<std::string> argv = {CTCOLLECTD_PATH,
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                   "--control.socket=" + socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string body;
    if (HttpGet(port_, "/-/ready", &body) == 200) {
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
  Shell("rm -rf " + dir_);
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

std::string Daemon::Get(const std::string& path) const {
  std::string body;
  HttpGet(port_, path, &body);
  return body;
}

std::map<std::string, double> Daemon::Metrics() const {
  return ParsePromText(Get("/metrics"));
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
