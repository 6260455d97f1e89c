#include "collector/netlink/netlink_request.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>

#include <cerrno>
#include <vector>

#include "collector/netlink/netlink_socket.h"
#include "collector/netlink/nl_attr.h"

namespace ctcollect {

nlmsghdr* PutNfnlRequest(void* buf, uint16_t type, uint16_t flags, uint32_t seq,
                         uint8_t family) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto* nfg =
      static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

std::error_code NetlinkRequest(NetlinkSocket* sock, const nlmsghdr* req,
                               const ReplyHandler& on_reply, int timeout_ms) {
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (auto ec = sock->Send(req, req->nlmsg_len)) return ec;
  std::vector<uint8_t> buf(64 << 10);
  for (;;) {
    pollfd p{sock->fd(), POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) return std::make_error_code(std::errc::timed_out);
    if (r < 0) {
      if (errno == EINTR) continue;
      return std::error_code(errno, std::generic_category());
    }
    std::error_code ec;
    ssize_t n = sock->Receive(buf.data(), buf.size(), &ec);
    if (n < 0) return ec;
    if (n == 0) continue;
    bool finished = false, bad = false;
    std::error_code kernel_error;
    size_t seen = 0;
    ForEachMsg(buf.data(), static_cast<size_t>(n), [&](const nlmsghdr* nlh) {
      seen += NLMSG_ALIGN(nlh->nlmsg_len);
      if (nlh->nlmsg_seq != req->nlmsg_seq) return true;  // a stale reply
      if (nlh->nlmsg_type == NLMSG_DONE) {
        finished = true;
        return false;
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        finished = true;
        if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(nlmsgerr)) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(nlh));
          if (e->error < 0) {
            kernel_error = std::error_code(-e->error, std::generic_category());
          }
        } else {
          bad = true;
        }
        return false;
      }
      if (!on_reply(nlh)) {
        bad = true;
        return false;
      }
      if (!dump) finished = true;
      return true;
    });
    if (bad || (!finished && seen < static_cast<size_t>(n))) {
      return std::make_error_code(std::errc::bad_message);
    }
    if (kernel_error) return kernel_error;
    if (finished) return {};
  }
}

}  // namespace ctcollect
