#include "exporters/formats/flow_stream.h"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <time.h>

#include <algorithm>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/netlink/nfct_dump.h"
#include "exporters/formats/flow_format.h"

namespace ctcollect {
namespace {
constexpr size_t kStreamBlock = 64 << 10;
}  // namespace

std::optional<FlowFormat> ParseFlowFormat(const std::string& s) {
  if (s == "json" || s.empty()) return FlowFormat::kJson;
  if (s == "xml") return FlowFormat::kXml;
  if (s == "conntrackd") return FlowFormat::kConntrackd;
  if (s == "conntrackd-xml") return FlowFormat::kConntrackdXml;
  return std::nullopt;
}

int64_t StreamFlows(const std::vector<NetnsRef>& namespaces,
                    const FlowFilter& filter, FlowFormat format,
                    int64_t daemon_start_unix, const ByteSink& final_sink) {
  // Flows are small: hand them on in blocks of about 64 KiB, not one write
  // (and one HTTP chunk) each. Memory stays bounded by the block.
  std::string block;
  block.reserve(kStreamBlock + 4096);
  auto flush = [&] {
    if (block.empty()) return true;
    bool ok = final_sink(block);
    block.clear();
    return ok;
  };
  auto sink = [&](std::string_view b) {
    block.append(b);
    return block.size() < kStreamBlock || flush();
  };
  const int64_t now_s = WallClockUnix();
  int64_t n = 0;
  bool open = true;
  if (format == FlowFormat::kJson) open = sink("[");
  for (const NetnsRef& ns : namespaces) {
    if (!open) break;
    if (filter.netns && ns->label() != *filter.netns) continue;
    auto ec = DumpFlows(*ns, [&](nf_conntrack* ct) {
      if (filter.limit > 0 && n >= filter.limit) return false;
      if (!filter.Matches(ct)) return true;
      std::string out;
      switch (format) {
        case FlowFormat::kJson:
          out = (n == 0 ? "\n" : ",\n") + FlowJson(ct, ns->label());
          break;
        case FlowFormat::kXml:
          if (n == 0) out = kConntrackXmlHeader;
          out += FlowXml(ct) + "\n";
          break;
        case FlowFormat::kConntrackd:
        case FlowFormat::kConntrackdXml: {
          int64_t since = daemon_start_unix;
          if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START) > 0) {
            since = static_cast<int64_t>(
                nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START) / 1000000000ull);
          }
          out = ConntrackdFlowLine(ct, format == FlowFormat::kConntrackdXml,
                                   std::max<int64_t>(0, now_s - since));
          break;
        }
      }
      ++n;
      open = sink(out);
      return open;
    });
    if (ec) {
      Log(LogLevel::kWarn, "flow dump of " +
                               (ns->label().empty() ? std::string("own netns")
                                                    : "netns " + ns->label()) +
                               " failed: " + ec.message());
    }
  }
  if (!open) return n;
  if (format == FlowFormat::kJson) sink(n == 0 ? "]\n" : "\n]\n");
  // conntrack -L -o xml prints the document frame only around flows.
  if (format == FlowFormat::kXml && n > 0) sink(kConntrackXmlFooter);
  flush();
  return n;
}

int64_t StreamExpectations(const std::vector<NetnsRef>& namespaces,
                           const std::optional<std::string>& netns, bool xml,
                           const ByteSink& sink) {
  int64_t n = 0;
  bool open = true;
  for (const NetnsRef& ns : namespaces) {
    if (!open) break;
    if (netns && ns->label() != *netns) continue;
    auto ec = DumpExpectations(*ns, [&](nf_expect* exp) {
      std::string out;
      if (xml && n == 0) out = kExpectXmlHeader;
      out += ExpectLine(exp, xml) + "\n";
      ++n;
      open = sink(out);
      return open;
    });
    if (ec) {
      Log(LogLevel::kWarn, "expectation dump failed: " + ec.message());
    }
  }
  if (open && xml && n > 0) sink(kExpectXmlFooter);
  return n;
}

}  // namespace ctcollect
