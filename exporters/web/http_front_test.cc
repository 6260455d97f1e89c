#include "exporters/web/http_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>

namespace ctcollect {
namespace {

int Listen(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(listen(fd, 64), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

// Reads until `n` bytes or the end; what came.
std::string ReadSome(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// A one-thread stand-in for civetweb: one request per connection, answered
// with its own first line and the client the front says it carries.
class Backend {
 public:
  explicit Backend(const HttpFront* front) : front_(front) {
    fd_ = Listen(&port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Backend() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::string last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  void Serve() {
    while (true) {
      sockaddr_in peer{};
      socklen_t len = sizeof(peer);
      int c = accept(fd_, reinterpret_cast<sockaddr*>(&peer), &len);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t r = recv(c, buf, sizeof(buf), 0);
        if (r <= 0) break;
        req.append(buf, static_cast<size_t>(r));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_ = req;
      }
      const int port = ntohs(peer.sin_port);
      std::string body = req.substr(0, req.find('\r')) + " from " +
                         front_->ClientOf(port) +
                         (front_->IsRelay(port) ? " relay" : "");
      std::string ans =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
      send(c, ans.data(), ans.size(), MSG_NOSIGNAL);
      close(c);
    }
  }
  const HttpFront* front_;
  int fd_, port_ = 0;
  mutable std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

// A front on a free loopback port, relaying to a Backend.
struct Rig {
  explicit Rig(int max_connections = 0)
      : front({"127.0.0.1:0"}, nullptr, max_connections), backend(&front) {
    front.Start(backend.port());
  }
  HttpFront front;
  Backend backend;
};

TEST(HttpFront, RelaysCompleteRequestsAndKeepsTheClientsConnection) {
  Rig rig;
  HttpFront& front = rig.front;
  Backend& backend = rig.backend;
  int fd = Connect(front.ports()[0]);
  for (const char* path : {"/metrics", "/-/ready"}) {
    std::string req =
        std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(send(fd, req.data(), req.size(), 0),
              static_cast<ssize_t>(req.size()));
    std::string want =
        std::string("GET ") + path + " HTTP/1.1 from 127.0.0.1 relay";
    std::string got = ReadSome(fd, 38 + want.size());
    EXPECT_NE(got.find("\r\n\r\n" + want), std::string::npos) << got;
  }
  EXPECT_EQ(backend.last_request(),
            "GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  close(fd);
  EXPECT_EQ(front.stats().accepted, 1u);
}

TEST(HttpFront, SilentConnectionsDoNotHoldTheBackendAndMakeRoom) {
  Rig rig(20);
  HttpFront& front = rig.front;
  std::vector<int> silent;
  for (int i = 0; i < 20; ++i) silent.push_back(Connect(front.ports()[0]));
  // A half request line and 19 silent ones fill the front; a scrape still
  // gets in, and the oldest waiting connection makes room for it.
  send(silent[5], "GET /met", 8, 0);
  int fd = Connect(front.ports()[0]);
  send(fd, "GET / HTTP/1.0\r\n\r\n", 18, 0);
  std::string got = ReadSome(fd, 1 << 20);
  EXPECT_NE(got.find("GET / HTTP/1.0 from 127.0.0.1"), std::string::npos);
  close(fd);
  EXPECT_EQ(ReadSome(silent[0], 1), "");  // evicted: the end
  EXPECT_EQ(front.stats().evicted, 1u);
  EXPECT_EQ(front.stats().open, 19);
  for (int s : silent) close(s);
}

TEST(HttpFront, AnOversizedHeadIsRefusedWithoutReachingTheBackend) {
  Rig rig;
  HttpFront& front = rig.front;
  Backend& backend = rig.backend;
  int fd = Connect(front.ports()[0]);
  std::string req = "GET / HTTP/1.1\r\nX: " + std::string(1 << 20, 'a');
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string got = ReadSome(fd, 1 << 20);
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 431") << got;
  EXPECT_EQ(backend.last_request(), "");
  close(fd);
}

}  // namespace
}  // namespace ctcollect
