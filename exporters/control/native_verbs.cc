// ctcollect's own control verbs (CTC1 requests), one member each; the table
// that names them is in control_verbs.cc.
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "collector/base/clock.h"
#include "collector/base/version.h"
#include "collector/flows/flow_filter.h"
#include "exporters/control/control_verbs.h"
#include "exporters/formats/advice.h"
#include "exporters/formats/flow_stream.h"
#include "exporters/formats/helper_format.h"
#include "exporters/formats/policy_format.h"
#include "exporters/formats/stats_json.h"
#include "exporters/formats/top_format.h"
#include "exporters/formats/top_query.h"

namespace ctcollect {

void ControlVerbs::Version(const Args&, ReplyWriter* out) {
  out->Write(NativeStatusLine(200, "OK"));
  out->Write(std::string("ctcollectd ") + kVersion + "\n");
}

void ControlVerbs::Stats(const Args& arg, ReplyWriter* out) {
  std::string format = arg("format");
  if (format != "" && format != "json" && format != "flat") {
    out->Write(NativeStatusLine(400, "stats: format must be json or flat"));
    return;
  }
  out->Write(NativeStatusLine(200, "OK"));
  Snapshot snap = collector_->TakeSnapshot();
  out->Write(format == "flat" ? StatsFlat(snap)
                              : StatsJson(snap, WallClockSeconds()));
}

void ControlVerbs::Top(const Args& arg, ReplyWriter* out) {
  std::map<std::string, std::string> params = arg.map;
  const std::string format = arg("format");
  params.erase("format");
  if (format != "" && format != "json" && format != "flat") {
    out->Write(NativeStatusLine(400, "top: format must be json or flat"));
    return;
  }
  TopAnswer a = AnswerTopQuery(
      params,
      [this](TopBy by, size_t limit, const std::optional<std::string>& netns) {
        return collector_->Top(by, limit, netns);
      });
  if (a.status != 200) {
    out->Write(NativeStatusLine(a.status, "top: " + a.error));
    return;
  }
  out->Write(NativeStatusLine(200, "OK"));
  out->Write(format == "flat"
                 ? TopFlat(a.rankings)
                 : TopJson(a.query.by, a.rankings, WallClockSeconds()));
}

void ControlVerbs::Conntrackd(const Args& arg, ReplyWriter* out) {
  int32_t code = -1;
  std::string c = arg("code");
  auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), code);
  if (ec != std::errc() || p != c.data() + c.size()) {
    out->Write(NativeStatusLine(400, "conntrackd: code=N required"));
    return;
  }
  out->Write(NativeStatusLine(200, "OK"));
  HandleConntrackd(code, out);
}

void ControlVerbs::Flows(const Args& arg, ReplyWriter* out) {
  auto format = ParseFlowFormat(arg("format"));
  if (!format) {
    out->Write(NativeStatusLine(
        400, "flows: format must be json, xml, conntrackd or conntrackd-xml"));
    return;
  }
  std::string error;
  auto filter = ParseFlowFilter(arg.map, &error, collector_->Classifier());
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
}

void ControlVerbs::Expectations(const Args& arg, ReplyWriter* out) {
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
}

void ControlVerbs::Policies(const Args& arg, ReplyWriter* out) {
  std::string format = arg("format");
  if (format != "" && format != "nfct" && format != "json") {
    out->Write(NativeStatusLine(400, "policies: format must be nfct or json"));
    return;
  }
  std::string netns = arg("netns");
  if (!WatchedOr404("policies", netns, out)) return;
  Snapshot snap = collector_->TakeSnapshot();
  const NetnsSnapshot* ns = PickNetns(snap, netns);
  std::string text =
      format == "json" ? PoliciesJson(snap, ns ? ns->netns : netns, arg("name"))
      : ns             ? PoliciesNfctText(*ns, arg("name"))
                       : "";
  if (!arg("name").empty() && (text.empty() || text == "[]\n")) {
    out->Write(NativeStatusLine(
        404, "policies: no timeout policy \"" + arg("name") + "\""));
    return;
  }
  out->Write(NativeStatusLine(200, "OK"));
  out->Write(text);
}

void ControlVerbs::Advise(const Args& arg, ReplyWriter* out) {
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
      out->Write(NativeStatusLine(400, "advise: min_samples must be a number"));
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
  out->Write(
      AdviceText(ctcollect::Advise(policies, durations, ao), policies, ao));
}

void ControlVerbs::Helpers(const Args& arg, ReplyWriter* out) {
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
}

void ControlVerbs::Resync(const Args&, ReplyWriter* out) {
  collector_->RequestResync();
  out->Write(NativeStatusLine(200, "OK"));
}

void ControlVerbs::FlushKernelVerb(const Args&, ReplyWriter* out) {
  std::string err = FlushKernel();
  out->Write(err.empty() ? NativeStatusLine(200, "OK")
                         : NativeStatusLine(500, err));
}

void ControlVerbs::Kill(const Args&, ReplyWriter* out) {
  out->Write(NativeStatusLine(200, "OK"));
  if (opts_.stop_daemon) opts_.stop_daemon();
}

}  // namespace ctcollect
