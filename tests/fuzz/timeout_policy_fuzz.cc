// Fuzz target: cttimeout and nftables ct timeout object messages, as the
// policy dumps return them (a buffer of netlink messages).
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "collector/conntrack/timeout_policy.h"
#include "collector/netlink/nl_attr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into aligned memory, as recv() into a netlink buffer would be.
  std::vector<uint64_t> buf((size + 7) / 8 + 1);
  std::memcpy(buf.data(), data, size);
  std::string error;
  ctcollect::ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (auto p = ctcollect::ParseCttimeoutMessage(nlh, &error)) {
      (void)ctcollect::NfctTimeoutText(*p);
    }
    if (auto p = ctcollect::ParseNftTimeoutObject(nlh, &error)) {
      for (int i = 0; i < p->count; ++i) {
        (void)ctcollect::TimeoutAttrName(p->l4proto, i);
      }
    }
    return true;
  });
  return 0;
}
