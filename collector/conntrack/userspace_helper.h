// Conntrack helpers implemented in user space and registered through
// nfnetlink_cthelper (`nfct helper add`, conntrackd's helper mode): their
// name, protocol, the queue the kernel hands packets to, and their
// expectation policies. Kernels without CONFIG_NF_CT_NETLINK_HELPER (this
// project's test machines) answer the dump with an error: the source is
// then unavailable and says why.
//
// Thread safety: the functions are thread-safe; a socket is used by one
// caller at a time.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace ctcollect {

class NetlinkSocket;

struct UserspaceHelper {
  struct Policy {
    std::string name;
    uint32_t expect_max = 0;
    uint32_t expect_timeout = 0;  // seconds
  };
  std::string name;
  uint16_t l3proto = 0;
  uint8_t l4proto = 0;
  uint32_t queue = 0;
  bool enabled = true;
  std::vector<Policy> policies;
};

// One NFNL_MSG_CTHELPER_NEW message (a dump reply); nullopt and a reason
// for anything else or malformed bytes.
std::optional<UserspaceHelper> ParseCthelperMessage(const nlmsghdr* nlh,
                                                    std::string* error);

// The dump request into `buf` (at least 64 bytes); its length.
size_t BuildCthelperDump(void* buf, uint32_t seq);

// Every user-space helper of the socket's namespace. The error is the
// kernel's (EINVAL or EOPNOTSUPP without nfnetlink_cthelper).
std::error_code QueryUserspaceHelpers(NetlinkSocket* sock,
                                      std::vector<UserspaceHelper>* out);

}  // namespace ctcollect
