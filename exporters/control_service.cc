#include "exporters/control_service.h"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <time.h>

#include <charconv>

#include "collector/flow_dumper.h"
#include "collector/log.h"
#include "collector/version.h"
#include "exporters/conntrackd_format.h"
#include "exporters/flow_format.h"
#include "exporters/stats_json.h"

namespace ctcollect {
namespace {

double UnixNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

constexpr const char* kNoPeerMode =
    "replication peer mode is off (start ctcollectd with --sync.mode)";

}  // namespace

ControlService::ControlService(Collector* collector, Options opts)
    : collector_(collector),
      opts_(std::move(opts)),
      started_(std::chrono::steady_clock::now()) {}

void ControlService::Handle(const ControlRequest& req, ReplyWriter* out) {
  if (req.kind == ControlRequest::Kind::kConntrackd) {
    HandleConntrackd(req.code, out);
  } else {
    HandleNative(req, out);
  }
}

std::string ControlService::FlushKernel() {
  for (const NetnsHandle* ns : collector_->Namespaces()) {
    if (auto ec = FlushFlows(*ns)) {
      return "flush of " + (ns->label().empty() ? std::string("own netns")
                                                : "netns " + ns->label()) +
             " failed: " + ec.message();
    }
  }
  kernel_flushes_++;
  Log(LogLevel::kNotice, "flushed the kernel conntrack table on request");
  collector_->RequestResync();
  return "";
}

void ControlService::HandleConntrackd(int32_t code, ReplyWriter* out) {
  Snapshot snap;
  auto snapshot = [&]() -> const Snapshot& {
    snap = collector_->TakeSnapshot();
    return snap;
  };
  switch (code) {
    case kStats:
      out->Write(ConntrackdStats(snapshot()));
      break;
    case kStatsCache:
      out->Write(ConntrackdStatsCache(snapshot()));
      break;
    case kStatsRuntime: {
      DaemonFigures d;
      d.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - started_)
                             .count();
      d.kernel_flushes = kernel_flushes_.load();
      d.buffer_size = opts_.buffer_size;
      if (opts_.counters) {
        d.local_read_failed = opts_.counters->read_failed.load();
        d.local_unknown_request = opts_.counters->unknown_request.load();
      }
      out->Write(ConntrackdStatsRuntime(snapshot(), d));
      break;
    }
    case kCtDumpInternal:
      DumpFlows("conntrackd", "", 0, false, out);
      break;
    case kCtDumpIntXml:
      DumpFlows("conntrackd-xml", "", 0, false, out);
      break;
    case kCtResyncMaster:
    case kAllResyncMaster:
      collector_->RequestResync();
      break;
    case kCtFlushMaster:
    case kAllFlushMaster:
      FlushKernel();
      break;
    case kCtFlushCache:
    case kCtFlushIntCache:
    case kAllFlushCache:
      // The internal cache mirrors the kernel: rebuild it from a dump.
      collector_->RequestResync();
      break;
    case kKill:
      if (opts_.stop_daemon) opts_.stop_daemon();
      break;
    // Blocks conntrackd prints only when it replicates: in stats mode it
    // answers these with nothing, and so do we while peer mode is off.
    case kStatsNetwork:
    case kStatsLink:
    case kStatsRsqueue:
    case kStatsProcess:
    case kStatsQueue:
    case kExpStats:
    case kCtDumpExternal:
    case kCtDumpExtXml:
    case kCtCommit:
    case kCtFlushExtCache:
    case kSendBulk:
    case kRequestDump:
    case kResetTimers:
    case kAllCommit:
      break;
    default:
      if (opts_.counters) {
        opts_.counters->unknown_request++;
      }
      break;
  }
}

void ControlService::DumpFlows(const std::string& format,
                               const std::string& netns, int64_t limit,
                               bool header, ReplyWriter* out) {
  const int64_t now_s = static_cast<int64_t>(UnixNow());
  const int64_t started_s =
      now_s - std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::steady_clock::now() - started_)
                  .count();
  int64_t n = 0;
  bool first = true;
  if (format == "json") out->Write("[");
  for (const NetnsHandle* ns : collector_->Namespaces()) {
    if (!netns.empty() && ns->label() != netns) continue;
    auto ec = ctcollect::DumpFlows(*ns, [&](nf_conntrack* ct) {
      if (limit > 0 && n >= limit) return false;
      ++n;
      std::string line;
      if (format == "json") {
        line = (first ? "\n" : ",\n") + FlowJson(ct, ns->label());
      } else if (format == "xml") {
        if (first && header) line = kConntrackXmlHeader;
        line += FlowXml(ct) + "\n";
      } else {
        // conntrackd -i: "active since" counts from when we first could
        // have seen the flow: its kernel start time, else our start.
        int64_t since = started_s;
        if (nfct_attr_is_set(ct, ATTR_TIMESTAMP_START) > 0) {
          since = static_cast<int64_t>(
              nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START) / 1000000000ull);
        }
        line = ConntrackdFlowLine(ct, format == "conntrackd-xml",
                                  std::max<int64_t>(0, now_s - since));
      }
      first = false;
      return out->Write(line);
    });
    if (ec) {
      Log(LogLevel::kWarn, "flow dump for a control client failed: " +
                               ec.message());
    }
  }
  if (format == "json") out->Write(first ? "]\n" : "\n]\n");
  if (format == "xml" && header && !first) out->Write(kConntrackXmlFooter);
}

void ControlService::HandleNative(const ControlRequest& req, ReplyWriter* out) {
  const std::string& v = req.verb;
  auto arg = [&](const char* k) {
    auto it = req.args.find(k);
    return it == req.args.end() ? std::string() : it->second;
  };
  if (v == "version") {
    out->Write(NativeStatusLine(200, "OK"));
    out->Write(std::string("ctcollectd ") + kVersion + "\n");
  } else if (v == "stats") {
    std::string format = arg("format");
    if (format != "" && format != "json" && format != "flat") {
      out->Write(NativeStatusLine(400, "stats: format must be json or flat"));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    Snapshot snap = collector_->TakeSnapshot();
    out->Write(format == "flat" ? StatsFlat(snap) : StatsJson(snap, UnixNow()));
  } else if (v == "conntrackd") {
    int32_t code = -1;
    std::string c = arg("code");
    auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), code);
    if (ec != std::errc() || p != c.data() + c.size()) {
      out->Write(NativeStatusLine(400, "conntrackd: code=N required"));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    HandleConntrackd(code, out);
  } else if (v == "flows") {
    std::string format = arg("format").empty() ? "json" : arg("format");
    if (format != "json" && format != "xml" && format != "conntrackd" &&
        format != "conntrackd-xml") {
      out->Write(NativeStatusLine(
          400, "flows: format must be json, xml, conntrackd or conntrackd-xml"));
      return;
    }
    int64_t limit = 0;
    std::string l = arg("limit");
    if (!l.empty()) {
      auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
      if (ec != std::errc() || p != l.data() + l.size() || limit < 0) {
        out->Write(NativeStatusLine(400, "flows: limit must be a number >= 0"));
        return;
      }
    }
    std::string netns = arg("netns");
    bool known = netns.empty();
    for (const NetnsHandle* ns : collector_->Namespaces()) {
      known = known || ns->label() == netns;
    }
    if (!known) {
      out->Write(NativeStatusLine(404, "flows: no watched netns \"" + netns + "\""));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    DumpFlows(format, netns, limit, true, out);
  } else if (v == "resync") {
    collector_->RequestResync();
    out->Write(NativeStatusLine(200, "OK"));
  } else if (v == "flush-cache") {
    collector_->RequestResync();
    out->Write(NativeStatusLine(200, "OK"));
  } else if (v == "flush-kernel") {
    std::string err = FlushKernel();
    out->Write(err.empty() ? NativeStatusLine(200, "OK")
                           : NativeStatusLine(500, err));
  } else if (v == "kill") {
    out->Write(NativeStatusLine(200, "OK"));
    if (opts_.stop_daemon) opts_.stop_daemon();
  } else if (v == "external" || v == "bulk" || v == "request-resync" ||
             v == "commit") {
    out->Write(NativeStatusLine(501, kNoPeerMode));
  } else {
    if (opts_.counters) {
      opts_.counters->unknown_request++;
    }
    out->Write(NativeStatusLine(400, "unknown verb \"" + v + "\""));
  }
}

}  // namespace ctcollect
