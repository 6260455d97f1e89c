#include "exporters/control/control_verbs.h"

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/netlink/nfct_dump.h"

namespace ctcollect {

// Every native verb, and whether it needs replication peer mode.
const ControlVerbs::NativeRow ControlVerbs::kNativeVerbs[] = {
    {"version", &ControlVerbs::Version, false},
    {"stats", &ControlVerbs::Stats, false},
    {"top", &ControlVerbs::Top, false},
    {"conntrackd", &ControlVerbs::Conntrackd, false},
    {"flows", &ControlVerbs::Flows, false},
    {"expectations", &ControlVerbs::Expectations, false},
    {"policies", &ControlVerbs::Policies, false},
    {"advise", &ControlVerbs::Advise, false},
    {"helpers", &ControlVerbs::Helpers, false},
    {"resync", &ControlVerbs::Resync, false},
    // The internal cache mirrors the kernel: flushing it is a resync.
    {"flush-cache", &ControlVerbs::Resync, false},
    {"flush-kernel", &ControlVerbs::FlushKernelVerb, false},
    {"kill", &ControlVerbs::Kill, false},
    {"external", &ControlVerbs::External, true},
    {"bulk", &ControlVerbs::Bulk, true},
    {"request-resync", &ControlVerbs::RequestPeerResync, true},
    {"commit", &ControlVerbs::Commit, true},
    {"flush-external", &ControlVerbs::FlushExternal, true},
};

// Every conntrackd request code ctcollectd answers (conntrackd's own
// numbers, control_protocol.h); any other is counted as unknown.
const ControlVerbs::ConntrackdRow ControlVerbs::kConntrackdVerbs[] = {
    {kStats, &ControlVerbs::StatsGeneral},
    {kStatsCache, &ControlVerbs::StatsCache},
    {kStatsRuntime, &ControlVerbs::StatsRuntime},
    {kCtDumpInternal, &ControlVerbs::DumpInternal},
    {kCtDumpIntXml, &ControlVerbs::DumpInternal},
    {kCtResyncMaster, &ControlVerbs::ResyncMaster},
    {kAllResyncMaster, &ControlVerbs::ResyncMaster},
    {kCtFlushMaster, &ControlVerbs::FlushMaster},
    {kAllFlushMaster, &ControlVerbs::FlushMaster},
    {kCtFlushCache, &ControlVerbs::FlushCache},
    {kCtFlushIntCache, &ControlVerbs::FlushCache},
    {kAllFlushCache, &ControlVerbs::FlushCache},
    {kKill, &ControlVerbs::KillCode},
    {kStatsNetwork, &ControlVerbs::StatsNetwork},
    {kStatsRsqueue, &ControlVerbs::StatsRsqueue},
    {kStatsQueue, &ControlVerbs::StatsQueue},
    {kStatsLink, &ControlVerbs::StatsLink},
    {kCtDumpExternal, &ControlVerbs::DumpExternal},
    {kCtDumpExtXml, &ControlVerbs::DumpExternal},
    {kExpDumpExternal, &ControlVerbs::DumpExternalExpects},
    {kExpDumpExtXml, &ControlVerbs::DumpExternalExpects},
    {kCtCommit, &ControlVerbs::CommitCode},
    {kAllCommit, &ControlVerbs::CommitCode},
    {kCtFlushExtCache, &ControlVerbs::FlushExternalCode},
    {kSendBulk, &ControlVerbs::BulkCode},
    {kRequestDump, &ControlVerbs::RequestPeerResyncCode},
    // The process and expectation blocks list children and an expectation
    // cache, of which there are none; timers are not kept.
    {kStatsProcess, &ControlVerbs::NothingToPrint},
    {kExpStats, &ControlVerbs::NothingToPrint},
    {kResetTimers, &ControlVerbs::NothingToPrint},
};

ControlVerbs::ControlVerbs(NetnsSet* collector, Options opts)
    : collector_(collector),
      opts_(std::move(opts)),
      started_(std::chrono::steady_clock::now()),
      started_unix_(WallClockUnix()) {}

void ControlVerbs::Handle(const ControlRequest& req, ReplyWriter* out) {
  if (req.kind == ControlRequest::Kind::kConntrackd) {
    HandleConntrackd(req.code, out);
  } else {
    HandleNative(req, out);
  }
}

void ControlVerbs::HandleConntrackd(int32_t code, ReplyWriter* out) {
  for (const ConntrackdRow& row : kConntrackdVerbs) {
    if (row.code == code) return (this->*row.answer)(code, out);
  }
  CountUnknownRequest();
}

void ControlVerbs::HandleNative(const ControlRequest& req, ReplyWriter* out) {
  for (const NativeRow& row : kNativeVerbs) {
    if (row.verb != req.verb) continue;
    if (row.needs_peer && opts_.sync == nullptr) {
      out->Write(NativeStatusLine(
          501,
          "replication peer mode is off (start ctcollectd with --sync.mode)"));
      return;
    }
    return (this->*row.answer)(Args{req.args}, out);
  }
  CountUnknownRequest();
  out->Write(NativeStatusLine(400, "unknown verb \"" + req.verb + "\""));
}

void ControlVerbs::CountUnknownRequest() {
  if (opts_.counters) opts_.counters->unknown_request++;
}

bool ControlVerbs::Watches(const std::string& netns) const {
  for (const NetnsRef& ns : collector_->Namespaces()) {
    if (ns->label() == netns) return true;
  }
  return false;
}

bool ControlVerbs::WatchedOr404(const char* verb, const std::string& netns,
                                ReplyWriter* out) const {
  if (netns.empty() || Watches(netns)) return true;
  out->Write(NativeStatusLine(
      404, std::string(verb) + ": no watched netns \"" + netns + "\""));
  return false;
}

const NetnsSnapshot* ControlVerbs::PickNetns(const Snapshot& snap,
                                             const std::string& netns) {
  for (const auto& n : snap.netns) {
    if (netns.empty() || n.netns == netns) return &n;
  }
  return nullptr;
}

std::string ControlVerbs::FlushKernel() {
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

}  // namespace ctcollect
