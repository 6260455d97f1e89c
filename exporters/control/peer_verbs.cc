// Replication peer mode's verbs and request codes (-e, -c, -B, -n,
// -f external, -s network|rsqueue|queue|link), one member each; the tables
// that name them are in control_verbs.cc. The native verbs are only called
// with peer mode on (the table says so); conntrackd's codes print the
// blocks' layout with zeroes, or nothing, while it is off.
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <string>

#include "collector/base/clock.h"
#include "collector/replication/sync_expect.h"
#include "collector/replication/sync_flow.h"
#include "exporters/control/control_verbs.h"
#include "exporters/formats/conntrackd_format.h"
#include "exporters/formats/flow_format.h"

namespace ctcollect {

void ControlVerbs::External(const Args& arg, ReplyWriter* out) {
  std::string format = arg("format");
  if (arg("what") == "expect") {
    if (format != "" && format != "conntrackd" && format != "xml") {
      out->Write(
          NativeStatusLine(400, "external: format must be conntrackd or xml"));
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
}

void ControlVerbs::Bulk(const Args&, ReplyWriter* out) {
  opts_.sync->BulkSend();
  out->Write(NativeStatusLine(200, "OK"));
}

void ControlVerbs::RequestPeerResync(const Args&, ReplyWriter* out) {
  opts_.sync->RequestResync();
  out->Write(NativeStatusLine(200, "OK"));
}

void ControlVerbs::FlushExternal(const Args&, ReplyWriter* out) {
  opts_.sync->FlushExternal();
  out->Write(NativeStatusLine(200, "OK"));
}

void ControlVerbs::Commit(const Args&, ReplyWriter* out) {
  std::string report = opts_.sync->Commit();
  out->Write(NativeStatusLine(200, "OK"));
  out->Write(report);
}

void ControlVerbs::StatsNetwork(int32_t, ReplyWriter* out) {
  out->Write(ConntrackdStatsNetwork(SyncFigures()));
}

void ControlVerbs::StatsRsqueue(int32_t, ReplyWriter* out) {
  out->Write(opts_.sync ? opts_.sync->ResendQueueText()
                        : std::string("resent queue (len=0)\n"));
}

void ControlVerbs::StatsQueue(int32_t, ReplyWriter* out) {
  out->Write(ConntrackdStatsQueue(SyncFigures()));
}

void ControlVerbs::StatsLink(int32_t, ReplyWriter* out) {
  out->Write(ConntrackdStatsLink(SyncFigures()));
}

void ControlVerbs::DumpExternal(int32_t code, ReplyWriter* out) {
  if (opts_.sync) {
    WriteExternal(code == kCtDumpExternal ? "conntrackd" : "xml", out);
  }
}

void ControlVerbs::DumpExternalExpects(int32_t code, ReplyWriter* out) {
  if (opts_.sync) WriteExternalExpects(code == kExpDumpExtXml, out);
}

void ControlVerbs::CommitCode(int32_t, ReplyWriter* out) {
  if (opts_.sync) out->Write(opts_.sync->Commit());
}

void ControlVerbs::FlushExternalCode(int32_t, ReplyWriter*) {
  if (opts_.sync) opts_.sync->FlushExternal();
}

void ControlVerbs::BulkCode(int32_t, ReplyWriter*) {
  if (opts_.sync) opts_.sync->BulkSend();
}

void ControlVerbs::RequestPeerResyncCode(int32_t, ReplyWriter*) {
  if (opts_.sync) opts_.sync->RequestResync();
}

SyncSnapshot ControlVerbs::SyncFigures() const {
  return opts_.sync ? opts_.sync->Snapshot() : SyncSnapshot{};
}

void ControlVerbs::WriteExternal(const std::string& format, ReplyWriter* out) {
  const int64_t now = WallClockUnix();
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

void ControlVerbs::WriteExternalExpects(bool xml, ReplyWriter* out) {
  const int64_t now = WallClockUnix();
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

}  // namespace ctcollect
