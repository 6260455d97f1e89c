#include "collector/control/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collector/control/control_protocol.h"

namespace ctcollect {

ClientResult ControlRequestTo(
    const std::string& path, const std::string& verb,
    const std::map<std::string, std::string>& args,
    const std::function<void(std::string_view)>& sink) {
  ClientResult r;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) {
    r.error = "control socket path too long: " + path;
    return r;
  }
  path.copy(a.sun_path, path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r.error = std::string("socket: ") + strerror(errno);
    return r;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    int e = errno;
    close(fd);
    if (e == EACCES || e == EPERM) {
      r.error = "permission denied on " + path +
                " (is this user in the socket's group?)";
    } else if (e == ENOENT || e == ECONNREFUSED) {
      r.error = "can't connect to " + path + ": is ctcollectd running?";
    } else {
      r.error = "can't connect to " + path + ": " + strerror(e);
    }
    return r;
  }
  std::string req = FormatNativeRequest(verb, args);
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(req.size())) {
    r.error = std::string("send: ") + strerror(errno);
    close(fd);
    return r;
  }
  std::string head;
  bool have_status = false;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (!have_status) {
      head.append(chunk);
      size_t nl = head.find('\n');
      if (nl == std::string::npos) {
        if (head.size() > 1024) break;
        continue;
      }
      std::string reason;
      int version = 0;
      auto code = ParseNativeStatusLine(head.substr(0, nl), &reason, &version);
      if (!code) {
        r.error = "the daemon on " + path +
                  " did not answer in the ctcollect protocol (is it "
                  "conntrackd? use conntrackd -s there)";
        close(fd);
        return r;
      }
      r.status = *code;
      if (*code != 200) {
        r.error = reason;
        if (*code == 505) {
          r.error = "version mismatch: " + reason + " (this ctcollect speaks " +
                    std::to_string(kControlProtocolVersion) + ")";
        }
        close(fd);
        return r;
      }
      have_status = true;
      std::string rest = head.substr(nl + 1);
      if (!rest.empty()) sink(rest);
      continue;
    }
    sink(chunk);
  }
  close(fd);
  if (!have_status && r.error.empty()) {
    r.error = "the daemon closed the connection without an answer";
  }
  return r;
}

ClientResult ControlRequestBody(const std::string& path,
                                const std::string& verb,
                                const std::map<std::string, std::string>& args,
                                std::string* body) {
  return ControlRequestTo(path, verb, args,
                          [&](std::string_view c) { body->append(c); });
}

}  // namespace ctcollect
