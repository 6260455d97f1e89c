#include "collector/control/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string_view>
#include <system_error>
#include <vector>

#include "collector/base/config_error.h"
#include "collector/base/log.h"

namespace ctcollect {
namespace {

sockaddr_un Address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) {
    throw ConfigError("--control.socket: path longer than " +
                      std::to_string(sizeof(a.sun_path) - 1) + " bytes");
  }
  path.copy(a.sun_path, path.size());
  return a;
}

// True if a daemon answers on `path`.
bool Live(const sockaddr_un& a) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live =
      connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return live;
}

void MakeParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = path.substr(0, slash);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    throw std::system_error(errno, std::generic_category(),
                            "create directory " + dir);
  }
}

}  // namespace

bool ReplyWriter::Write(std::string_view bytes) {
  while (ok_ && !bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      ok_ = false;  // EPIPE, or the send timeout on a stalled client
      break;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ok_;
}

ControlServer::ControlServer(const ControlServerOptions& opts,
                             ControlHandler* handler)
    : opts_(opts), handler_(handler) {
  sockaddr_un addr = Address(opts_.path);
  gid_t gid = static_cast<gid_t>(-1);
  if (!opts_.group.empty()) {
    group* g = getgrnam(opts_.group.c_str());
    if (g == nullptr) {
      throw ConfigError("--control.socket-group: no group \"" + opts_.group +
                        "\"");
    }
    gid = g->gr_gid;
  }
  MakeParentDir(opts_.path);
  struct stat st;
  if (lstat(opts_.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw ConfigError("--control.socket: " + opts_.path +
                        " exists and is not a socket");
    }
    if (Live(addr)) {
      throw ConfigError("another daemon is already listening on " + opts_.path);
    }
    unlink(opts_.path.c_str());  // stale: its daemon is gone
    Log(LogLevel::kInfo, "replaced stale control socket " + opts_.path);
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "control socket");
  }
  // Create the file with no access, then open it up to exactly 0660, so no
  // one outside the group can connect in between.
  mode_t old = umask(0177);
  int r = bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  umask(old);
  if (r != 0) {
    int e = errno;
    close(listen_fd_);
    throw std::system_error(e, std::generic_category(), "bind " + opts_.path);
  }
  if (gid != static_cast<gid_t>(-1) &&
      chown(opts_.path.c_str(), -1, gid) != 0) {
    int e = errno;
    close(listen_fd_);
    throw std::system_error(e, std::generic_category(), "chown " + opts_.path);
  }
  chmod(opts_.path.c_str(), 0660);
  if (listen(listen_fd_, 64) != 0) {
    int e = errno;
    close(listen_fd_);
    throw std::system_error(e, std::generic_category(), "listen " + opts_.path);
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

ControlServer::~ControlServer() {
  Stop();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(opts_.path.c_str());
  }
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ControlServer::Start() {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

void ControlServer::Stop() {
  if (!accept_thread_.joinable()) return;
  uint64_t v = 1;
  ssize_t w = write(wake_fd_, &v, sizeof(v));
  (void)w;
  accept_thread_.join();
  std::deque<Waiting> left;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    left.swap(waiting_);
    left.insert(left.end(), refused_.begin(), refused_.end());
    refused_.clear();
  }
  for (const Waiting& client : left) {
    AnswerBusy(client.fd, "the daemon is stopping");
  }
  // Client threads finish within their send/read timeouts.
  MutexLock lock(&mu_);
  while (active_ != 0) idle_.Wait(&lock);
}

void ControlServer::AnswerBusy(int fd, const std::string& why) {
  counters_.rejected_busy++;
  // Take the request off the socket first: closing a UNIX socket with
  // unread bytes makes the client's read fail with ECONNRESET.
  char req[kMaxRequestBytes + 1];
  ssize_t n = recv(fd, req, sizeof(req), MSG_DONTWAIT);
  std::string_view got(req, n > 0 ? static_cast<size_t>(n) : 0);
  const std::string reason = "busy: " + why + ", try again";
  // conntrackd's client prints what it reads: one line of text. Ours (and
  // a client that sent nothing yet) gets a status line it reports.
  const std::string reply = DetectFraming(got) == ControlFraming::kConntrackd
                                ? "ctcollectd " + reason + "\n"
                                : NativeStatusLine(503, reason);
  ssize_t w = send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)w;  // a fresh socket's buffer holds a line; a gone client is gone
  close(fd);
}

std::string ControlServer::QueueFull() const {
  return std::to_string(opts_.max_clients) + " clients served, " +
         std::to_string(opts_.max_queued) + " waiting";
}

int ControlServer::AnswerExpired() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<int> expired, refused;
  int timeout = -1;
  {
    MutexLock lock(&mu_);
    while (!waiting_.empty() && waiting_.front().deadline <= now) {
      expired.push_back(waiting_.front().fd);
      waiting_.pop_front();
    }
    // A refused client is answered once its request is in (or its grace is
    // over): closing before it has sent would break its pipe.
    for (auto it = refused_.begin(); it != refused_.end();) {
      char byte;
      if (it->deadline <= now ||
          recv(it->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0) {
        refused.push_back(it->fd);
        it = refused_.erase(it);
      } else {
        ++it;
      }
    }
    if (!waiting_.empty()) {
      timeout = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              waiting_.front().deadline - now)
              .count() +
          1);
    }
    // Look again soon for the refused clients' requests.
    if (!refused_.empty() && (timeout < 0 || timeout > 10)) timeout = 10;
  }
  for (int fd : expired) {
    AnswerBusy(fd, std::to_string(opts_.max_clients) +
                       " clients served, waited " +
                       std::to_string(opts_.queue_timeout_ms) + " ms");
  }
  for (int fd : refused) AnswerBusy(fd, QueueFull());
  return timeout;
}

void ControlServer::RunClients(int fd) {
  for (;;) {
    Serve(fd);
    close(fd);
    MutexLock lock(&mu_);
    if (waiting_.empty() || stopping_) {
      if (--active_ == 0) idle_.NotifyAll();
      return;
    }
    fd = waiting_.front().fd;
    waiting_.pop_front();
  }
}

void ControlServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, AnswerExpired()) < 0) {
      if (errno == EINTR) continue;
      Log(LogLevel::kError, "control socket poll failed");
      return;
    }
    if (fds[1].revents & POLLIN) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    bool serve = false, full = false;
    {
      MutexLock lock(&mu_);
      const auto now = std::chrono::steady_clock::now();
      if (active_ < opts_.max_clients) {
        ++active_;
        serve = true;
      } else if (waiting_.size() < static_cast<size_t>(opts_.max_queued)) {
        waiting_.push_back(
            {fd, now + std::chrono::milliseconds(opts_.queue_timeout_ms)});
        counters_.queued++;
      } else if (refused_.size() < static_cast<size_t>(opts_.max_queued)) {
        refused_.push_back(
            {fd, now + std::chrono::milliseconds(opts_.busy_grace_ms)});
      } else {
        full = true;
      }
    }
    if (full) {
      AnswerBusy(fd, QueueFull());
    } else if (serve) {
      std::thread([this, fd] { RunClients(fd); }).detach();
    }
  }
}

void ControlServer::Serve(int fd) {
  timeval snd{opts_.send_timeout_ms / 1000,
              (opts_.send_timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
  // Read the request against one deadline for all of it, so a client that
  // dribbles bytes cannot hold a thread longer than read_timeout_ms.
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(opts_.read_timeout_ms);
  std::string buf;
  ReplyWriter out(fd);
  ControlFraming framing = ControlFraming::kNeedMore;
  for (;;) {
    if (framing == ControlFraming::kConntrackd && buf.size() >= 4) break;
    if (framing == ControlFraming::kNative &&
        buf.find('\n') != std::string::npos) {
      break;
    }
    if (buf.size() > kMaxRequestBytes) {
      counters_.malformed++;
      out.Write(NativeStatusLine(400, "request longer than 4096 bytes"));
      return;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) {
      counters_.read_failed++;
      if (framing == ControlFraming::kNative) {
        out.Write(NativeStatusLine(408, "request timed out"));
      }
      return;
    }
    char chunk[1024];
    // Until the framing is known, and for a conntrackd request, read no
    // more than its 4 bytes; a native request is read in chunks.
    size_t want =
        framing == ControlFraming::kNative ? sizeof(chunk) : 4 - buf.size();
    ssize_t n = recv(fd, chunk, want, 0);
    if (n <= 0) {
      counters_.read_failed++;
      return;
    }
    buf.append(chunk, static_cast<size_t>(n));
    if (framing == ControlFraming::kNeedMore) framing = DetectFraming(buf);
  }
  counters_.requests++;
  if (framing == ControlFraming::kConntrackd) {
    auto req = ParseConntrackdRequest(std::string_view(buf).substr(0, 4));
    if (req) handler_->Handle(*req, &out);
    return;
  }
  std::string line = buf.substr(0, buf.find('\n') + 1);
  std::string error;
  auto req = ParseNativeRequest(line, &error);
  if (!req) {
    counters_.malformed++;
    out.Write(NativeStatusLine(400, error));
    return;
  }
  if (req->version != kControlProtocolVersion) {
    counters_.malformed++;
    out.Write(NativeStatusLine(
        505, "protocol version " + std::to_string(req->version) +
                 " not supported, this daemon speaks " +
                 std::to_string(kControlProtocolVersion)));
    return;
  }
  handler_->Handle(*req, &out);
}

}  // namespace ctcollect
