// conntrackd's request codes (its client's -s, -i, -R, -f, -F, -k), one
// member each, answered in conntrackd's layouts; the table that names them
// is in control_verbs.cc.
#include "collector/flows/flow_filter.h"
#include "exporters/control/control_verbs.h"
#include "exporters/formats/conntrackd_format.h"
#include "exporters/formats/flow_stream.h"

namespace ctcollect {

void ControlVerbs::StatsGeneral(int32_t, ReplyWriter* out) {
  out->Write(ConntrackdStats(collector_->TakeSnapshot()));
}

void ControlVerbs::StatsCache(int32_t, ReplyWriter* out) {
  out->Write(ConntrackdStatsCache(collector_->TakeSnapshot()));
}

void ControlVerbs::StatsRuntime(int32_t, ReplyWriter* out) {
  DaemonFigures d;
  d.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - started_)
                         .count();
  d.kernel_flushes = kernel_flushes_.load();
  if (opts_.counters) {
    d.local_read_failed = opts_.counters->read_failed.load();
    d.local_unknown_request = opts_.counters->unknown_request.load();
  }
  out->Write(ConntrackdStatsRuntime(collector_->TakeSnapshot(), d));
}

void ControlVerbs::DumpInternal(int32_t code, ReplyWriter* out) {
  StreamFlows(collector_->Namespaces(), FlowFilter{},
              code == kCtDumpInternal ? FlowFormat::kConntrackd
                                      : FlowFormat::kConntrackdXml,
              started_unix_,
              [out](std::string_view b) { return out->Write(b); });
}

void ControlVerbs::ResyncMaster(int32_t, ReplyWriter*) {
  collector_->RequestResync();
}

void ControlVerbs::FlushMaster(int32_t, ReplyWriter*) { FlushKernel(); }

void ControlVerbs::FlushCache(int32_t code, ReplyWriter*) {
  // The internal cache mirrors the kernel: rebuild it from a dump.
  collector_->RequestResync();
  if (code != kCtFlushIntCache && opts_.sync) opts_.sync->FlushExternal();
}

void ControlVerbs::KillCode(int32_t, ReplyWriter*) {
  if (opts_.stop_daemon) opts_.stop_daemon();
}

void ControlVerbs::NothingToPrint(int32_t, ReplyWriter*) {}

}  // namespace ctcollect
