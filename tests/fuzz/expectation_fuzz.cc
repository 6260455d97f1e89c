// Fuzz target: ctnetlink expectation messages and expectation statistics,
// as events and dumps deliver them, applied to an ExpectationTable.
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "collector/conntrack/expectation.h"
#include "collector/netlink/nl_attr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint64_t> buf((size + 7) / 8 + 1);
  std::memcpy(buf.data(), data, size);
  ctcollect::ExpectationTable table;
  ctcollect::ExpStats stats;
  std::vector<ctcollect::ExpMessage> dumped;
  ctcollect::ForEachMsg(buf.data(), size, [&](const nlmsghdr* nlh) {
    if (auto m = ctcollect::ParseExpMessage(nlh)) {
      table.Apply(*m, true);
      dumped.push_back(*m);
    }
    (void)ctcollect::ParseExpStatsMessage(nlh, &stats);
    return true;
  });
  table.ReplaceWith(dumped);
  (void)table.Read();
  return 0;
}
