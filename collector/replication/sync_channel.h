// The sockets of replication peer mode, one transport at a time, as
// conntrackd's channels: UDP unicast (receive on the listen address, send
// to each peer), IPv4 multicast (join the group on the interface, send to
// it with loopback off) or TCP (listen for the peers' streams, connect to
// each peer to send). With an HMAC key every datagram carries a tag and
// datagrams without the right one are dropped before decoding.
//
// Thread safety: one thread (the replication loop) owns a channel.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/replication/sync_hmac.h"
#include "collector/replication/sync_options.h"
#include "collector/replication/sync_wire.h"

namespace ctcollect {

// Where a channel delivers what it receives. `source` is the sender's IP
// address as text.
class SyncChannelSink {
 public:
  virtual ~SyncChannelSink() = default;
  // Returns the bytes consumed (streams keep the rest for later).
  virtual size_t OnData(const std::string& source, const uint8_t* data,
                        size_t len, bool stream) = 0;
  virtual void OnDropped(const std::string& source, SyncError why) = 0;
};

struct SyncEndpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string ip;    // the address alone, as text
  std::string text;  // ADDR:PORT as the operator wrote it
};
// "ADDR:PORT", "[V6]:PORT" or "ADDR" (then `default_port`). Throws
// ConfigError naming `flag`.
SyncEndpoint ParseSyncEndpoint(const std::string& flag, const std::string& v,
                               int default_port);

class SyncChannel {
 public:
  // Opens the sockets. Throws ConfigError for bad settings and
  // std::system_error when a socket cannot be made (start-up only).
  SyncChannel(const SyncOptions& o, std::shared_ptr<const SyncHmac> hmac);
  ~SyncChannel();
  SyncChannel(const SyncChannel&) = delete;
  SyncChannel& operator=(const SyncChannel&) = delete;

  // The links (where this node sends): one per peer, or the group.
  const std::vector<std::string>& link_names() const { return link_names_; }
  // The configured peers' addresses (the sources accepted), in order, and
  // the link that answers each; empty for multicast without --sync.peer
  // (then any source is a peer).
  const std::vector<std::string>& peer_ips() const { return peer_ips_; }
  size_t LinkOfPeer(size_t peer) const;
  // The largest datagram of messages a sender may build (MTU - headers,
  // less the HMAC tag).
  size_t max_datagram() const { return max_datagram_; }

  void AddPollFds(std::vector<pollfd>* fds) const;
  // Reads every socket that poll() found readable among `fds`.
  void HandleReady(const std::vector<pollfd>& fds, SyncChannelSink* sink);
  bool Send(size_t link, const uint8_t* data, size_t len);
  // TCP: (re)connects links that are down, at most once a second.
  void Tick(int64_t now_ms);

 private:
  // UDP and TCP: the listen address, and one link per peer (its port
  // defaults to the listen port).
  SyncEndpoint UnicastLinks(const char* transport);
  void OpenUdp();
  void OpenMulticast();
  void OpenTcp();
  void ReadDatagrams(int fd, SyncChannelSink* sink);
  void ReadStream(size_t conn, SyncChannelSink* sink);
  void Accept();
  void Connect(size_t link);

  SyncOptions opts_;
  std::shared_ptr<const SyncHmac> hmac_;
  std::vector<std::string> link_names_;
  std::vector<std::string> peer_ips_;
  std::vector<SyncEndpoint> dests_;  // per link
  int recv_fd_ = -1;                 // UDP/multicast socket, or TCP listener
  int send_fd_ = -1;                 // UDP/multicast
  std::vector<int> link_fds_;        // TCP: connected socket per link
  int64_t last_connect_ms_ = -1000000;
  struct Conn {
    int fd;
    std::string ip;
    std::vector<uint8_t> pending;
  };
  std::vector<Conn> conns_;  // TCP: accepted streams
  size_t max_datagram_ = 1472;
  std::vector<uint8_t> rbuf_;
  std::vector<uint8_t> sbuf_;
};

}  // namespace ctcollect
