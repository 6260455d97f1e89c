// One request and its replies on a netlink socket: sends the request, then
// reads replies (with a timeout) until the dump ends (NLMSG_DONE), the
// kernel answers with an error or an acknowledgement, or — for a request
// that is not a dump — the first reply arrived. Replies of earlier
// requests (another sequence number) are skipped.
//
// Thread safety: one caller per socket at a time.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <functional>
#include <system_error>

namespace ctcollect {

class NetlinkSocket;

// Called for every reply message of the request (not for NLMSG_DONE or
// NLMSG_ERROR); returns false when the message is malformed.
using ReplyHandler = std::function<bool(const nlmsghdr*)>;

// Writes the header of an nfnetlink request (nlmsghdr + nfgenmsg) into
// `buf`: `type` is (subsystem << 8) | message, `flags` are added to
// NLM_F_REQUEST. Attributes may follow (mnl_attr_put_*).
nlmsghdr* PutNfnlRequest(void* buf, uint16_t type, uint16_t flags, uint32_t seq,
                         uint8_t family = 0 /* AF_UNSPEC */);

// `req` is one netlink message whose nlmsg_seq identifies it. Returns the
// kernel's error (e.g. ENOENT, EOPNOTSUPP) if it answered with one,
// timed_out after `timeout_ms` without an answer, bad_message if the
// handler or the framing found malformed bytes.
std::error_code NetlinkRequest(NetlinkSocket* sock, const nlmsghdr* req,
                               const ReplyHandler& on_reply,
                               int timeout_ms = 2000);

}  // namespace ctcollect
