// Fuzz target: nfnetlink_cthelper dump replies (user-space helpers).
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "collector/conntrack/userspace_helper.h"
#include "collector/netlink/nl_attr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint64_t> buf((size + 7) / 8 + 1);
  std::memcpy(buf.data(), data, size);
  std::string error;
  ctcollect::ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    (void)ctcollect::ParseCthelperMessage(nlh, &error);
    return true;
  });
  return 0;
}
