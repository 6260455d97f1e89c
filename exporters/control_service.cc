#include "exporters/control_service.h"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <time.h>

#include <charconv>
#include <cstdlib>

#include "collector/flow_dumper.h"
#include "collector/flow_filter.h"
#include "collector/log.h"
#include "collector/sync_expect.h"
#include "collector/sync_flow.h"
#include "collector/version.h"
#include "exporters/advice.h"
#include "exporters/conntrackd_format.h"
#include "exporters/flow_format.h"
#include "exporters/flow_stream.h"
#include "exporters/helper_format.h"
#include "exporters/policy_format.h"
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
      started_(std::chrono::steady_clock::now()),
      started_unix_(static_cast<int64_t>(UnixNow())) {}

bool ControlService::Watches(const std::string& netns) const {
  for (const NetnsRef& ns : collector_->Namespaces()) {
    if (ns->label() == netns) return true;
  }
  return false;
}

bool ControlService::WatchedOr404(const char* verb, const std::string& netns,
                                  ReplyWriter* out) const {
  if (netns.empty() || Watches(netns)) return true;
  out->Write(NativeStatusLine(
      404, std::string(verb) + ": no watched netns \"" + netns + "\""));
  return false;
}

const NetnsSnapshot* ControlService::PickNetns(const Snapshot& snap,
                                               const std::string& netns) {
  for (const auto& n : snap.netns) {
    if (netns.empty() || n.netns == netns) return &n;
  }
  return nullptr;
}

void ControlService::Handle(const ControlRequest& req, ReplyWriter* out) {
  if (req.kind == ControlRequest::Kind::kConntrackd) {
    HandleConntrackd(req.code, out);
  } else {
    HandleNative(req, out);
  }
}

std::string ControlService::FlushKernel() {
  for (const NetnsRef& ns : collector_->Namespaces()) {
    if (auto ec = FlushFlows(*ns)) {
      return "flush of " +
             (ns->label().empty() ? std::string("own netns")
                                  : "netns " + ns->label()) +
             " failed: " + ec.message();
    }
  }
  kernel_flushes_++;
  Log(LogLevel::kNotice, "flushed the kernel conntrack table on request");
  collector_->RequestResync();
  return "";
}

SyncSnapshot ControlService::SyncFigures() const {
  return opts_.sync ? opts_.sync->Snapshot() : SyncSnapshot{};
}

void ControlService::WriteExternal(const std::string& format,
                                   ReplyWriter* out) {
  const int64_t now = static_cast<int64_t>(time(nullptr));
  std::string block;
  for (const auto& x : opts_.sync->ExternalFlows()) {
    nf_conntrack* ct = SyncFlowToConntrack(x.flow);
    if (ct == nullptr) continue;
    if (format == "json") {
      block += ExternalFlowJson(ct, x.peer);
      block += '\n';
    } else {
      block += ConntrackdFlowLine(ct, format == "xml", now - x.created_unix,
                                  x.expires_in);
    }
    nfct_destroy(ct);
    if (block.size() >= 64 * 1024) {
      if (!out->Write(block)) return;
      block.clear();
    }
  }
  out->Write(block);
}

void ControlService::WriteExternalExpects(bool xml, ReplyWriter* out) {
  const int64_t now = static_cast<int64_t>(time(nullptr));
  std::string block;
  for (const auto& x : opts_.sync->ExternalExpects()) {
    nf_expect* exp = SyncExpectToExpect(x.expect);
    if (exp == nullptr) continue;
    // conntrackd's cache keeps no timeout (it would only be stale).
    nfexp_attr_unset(exp, ATTR_EXP_TIMEOUT);
    block += ExpectLine(exp, xml);
    if (!xml)
      block += " [active since " + std::to_string(now - x.created_unix) + "s]";
    block += '\n';
    nfexp_destroy(exp);
  }
  out->Write(block);
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
    case kCtDumpIntXml:
      StreamFlows(collector_->Namespaces(), FlowFilter{},
                  code == kCtDumpInternal ? FlowFormat::kConntrackd
                                          : FlowFormat::kConntrackdXml,
                  started_unix_,
                  [out](std::string_view b) { return out->Write(b); });
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
      if (code != kCtFlushIntCache && opts_.sync) opts_.sync->FlushExternal();
      break;
    case kKill:
      if (opts_.stop_daemon) opts_.stop_daemon();
      break;
    // Replication blocks: their layout with zeroes while no peer runs (the
    // link, process and expectation blocks list links, children and an
    // expectation cache, of which there are none: nothing to print).
    case kStatsNetwork:
      out->Write(ConntrackdStatsNetwork(SyncFigures()));
      break;
    case kStatsRsqueue:
      out->Write(opts_.sync ? opts_.sync->ResendQueueText()
                            : std::string("resent queue (len=0)\n"));
      break;
    case kStatsQueue:
      out->Write(ConntrackdStatsQueue(SyncFigures()));
      break;
    case kStatsLink:
      out->Write(ConntrackdStatsLink(SyncFigures()));
      break;
    case kCtDumpExternal:
    case kCtDumpExtXml:
      if (opts_.sync) {
        WriteExternal(code == kCtDumpExternal ? "conntrackd" : "xml", out);
      }
      break;
    case kExpDumpExternal:
    case kExpDumpExtXml:
      if (opts_.sync) WriteExternalExpects(code == kExpDumpExtXml, out);
      break;
    case kCtCommit:
    case kAllCommit:
      if (opts_.sync) out->Write(opts_.sync->Commit());
      break;
    case kCtFlushExtCache:
      if (opts_.sync) opts_.sync->FlushExternal();
      break;
    case kSendBulk:
      if (opts_.sync) opts_.sync->BulkSend();
      break;
    case kRequestDump:
      if (opts_.sync) opts_.sync->RequestResync();
      break;
    case kStatsProcess:
    case kExpStats:
    case kResetTimers:
      break;
    default:
      if (opts_.counters) {
        opts_.counters->unknown_request++;
      }
      break;
  }
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
    auto format = ParseFlowFormat(arg("format"));
    if (!format) {
      out->Write(NativeStatusLine(
          400,
          "flows: format must be json, xml, conntrackd or conntrackd-xml"));
      return;
    }
    std::string error;
    auto filter = ParseFlowFilter(req.args, &error, collector_->Classifier());
    if (!filter) {
      out->Write(NativeStatusLine(400, "flows: " + error));
      return;
    }
    if (filter->netns && !Watches(*filter->netns)) {
      out->Write(NativeStatusLine(
          404, "flows: no watched netns \"" + *filter->netns + "\""));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    StreamFlows(collector_->Namespaces(), *filter, *format, started_unix_,
                [out](std::string_view b) { return out->Write(b); });
  } else if (v == "expectations") {
    std::string format = arg("format");
    if (format != "" && format != "plain" && format != "xml") {
      out->Write(
          NativeStatusLine(400, "expectations: format must be plain or xml"));
      return;
    }
    std::optional<std::string> netns;
    if (!arg("netns").empty()) {
      netns = arg("netns");
      if (!Watches(*netns)) {
        out->Write(NativeStatusLine(
            404, "expectations: no watched netns \"" + *netns + "\""));
        return;
      }
    }
    out->Write(NativeStatusLine(200, "OK"));
    StreamExpectations(collector_->Namespaces(), netns, format == "xml",
                       [out](std::string_view b) { return out->Write(b); });
  } else if (v == "policies") {
    std::string format = arg("format");
    if (format != "" && format != "nfct" && format != "json") {
      out->Write(
          NativeStatusLine(400, "policies: format must be nfct or json"));
      return;
    }
    std::string netns = arg("netns");
    if (!WatchedOr404("policies", netns, out)) return;
    Snapshot snap = collector_->TakeSnapshot();
    const NetnsSnapshot* ns = PickNetns(snap, netns);
    std::string text =
        format == "json"
            ? PoliciesJson(snap, ns ? ns->netns : netns, arg("name"))
        : ns ? PoliciesNfctText(*ns, arg("name"))
             : "";
    if (!arg("name").empty() && (text.empty() || text == "[]\n")) {
      out->Write(NativeStatusLine(
          404, "policies: no timeout policy \"" + arg("name") + "\""));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    out->Write(text);
  } else if (v == "advise") {
    AdviceOptions ao;
    if (!arg("quantile").empty()) {
      char* end = nullptr;
      std::string q = arg("quantile");
      ao.quantile = std::strtod(q.c_str(), &end);
      if (end == q.c_str() || *end != '\0' || !(ao.quantile > 0) ||
          ao.quantile > 1) {
        out->Write(NativeStatusLine(400, "advise: quantile must be in (0, 1]"));
        return;
      }
    }
    if (!arg("min_samples").empty()) {
      auto n = ParseNumber(arg("min_samples"), 1u << 30);
      if (!n) {
        out->Write(
            NativeStatusLine(400, "advise: min_samples must be a number"));
        return;
      }
      ao.min_samples = static_cast<int64_t>(*n);
    }
    std::string netns = arg("netns");
    if (!WatchedOr404("advise", netns, out)) return;
    Snapshot snap = collector_->TakeSnapshot();
    const NetnsSnapshot* ns = PickNetns(snap, netns);
    auto durations = collector_->CopyStateDurations(ns ? ns->netns : netns);
    std::vector<TimeoutPolicy> none;
    const auto& policies = ns ? ns->policies : none;
    out->Write(NativeStatusLine(200, "OK"));
    out->Write(AdviceText(Advise(policies, durations, ao), policies, ao));
  } else if (v == "helpers") {
    std::string format = arg("format");
    if (format != "" && format != "text" && format != "json") {
      out->Write(NativeStatusLine(400, "helpers: format must be text or json"));
      return;
    }
    std::string netns = arg("netns");
    if (!WatchedOr404("helpers", netns, out)) return;
    Snapshot snap = collector_->TakeSnapshot();
    out->Write(NativeStatusLine(200, "OK"));
    for (const auto& n : snap.netns) {
      if (!netns.empty() && n.netns != netns) continue;
      out->Write(format == "json" ? HelpersJson(n) : HelpersText(n));
      if (netns.empty()) break;  // the first watched namespace
    }
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
  } else if ((v == "external" || v == "bulk" || v == "request-resync" ||
              v == "commit" || v == "flush-external") &&
             opts_.sync == nullptr) {
    out->Write(NativeStatusLine(501, kNoPeerMode));
  } else if (v == "external") {
    std::string format = arg("format");
    if (arg("what") == "expect") {
      if (format != "" && format != "conntrackd" && format != "xml") {
        out->Write(NativeStatusLine(
            400, "external: format must be conntrackd or xml"));
        return;
      }
      out->Write(NativeStatusLine(200, "OK"));
      WriteExternalExpects(format == "xml", out);
      return;
    }
    if (format == "") format = "conntrackd";
    if (format != "conntrackd" && format != "xml" && format != "json") {
      out->Write(NativeStatusLine(
          400, "external: format must be conntrackd, xml or json"));
      return;
    }
    out->Write(NativeStatusLine(200, "OK"));
    WriteExternal(format, out);
  } else if (v == "bulk") {
    opts_.sync->BulkSend();
    out->Write(NativeStatusLine(200, "OK"));
  } else if (v == "request-resync") {
    opts_.sync->RequestResync();
    out->Write(NativeStatusLine(200, "OK"));
  } else if (v == "flush-external") {
    opts_.sync->FlushExternal();
    out->Write(NativeStatusLine(200, "OK"));
  } else if (v == "commit") {
    std::string report = opts_.sync->Commit();
    out->Write(NativeStatusLine(200, "OK"));
    out->Write(report);
  } else {
    if (opts_.counters) {
      opts_.counters->unknown_request++;
    }
    out->Write(NativeStatusLine(400, "unknown verb \"" + v + "\""));
  }
}

}  // namespace ctcollect
