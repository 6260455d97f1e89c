// Golden tests on real bytes: the datagrams conntrackd 1.4.7 sent in
// tests/testdata/sync/ (captured on this machine, see its README), fed to
// a SyncEngine in the capture's mode, must leave the external cache that
// the receiving conntrackd printed at the end of the same capture (`-e`
// and `-e -x`, recorded in NAME.txt), line for line.
#include <gtest/gtest.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "collector/replication/sync_engine.h"
#include "collector/replication/sync_expect.h"
#include "collector/replication/sync_flow.h"
#include "exporters/formats/flow_format.h"

namespace ctcollect {
namespace {

const std::string kDir = std::string(CTCOLLECT_TESTDATA) + "/sync/";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The files the sender (a) sent and the receiver (b) got, in order, from
// the README's listings ("NAME_NNN.bin a>b ..." lines, "DROPPED at b" left
// out: b's ingress dropped those on purpose).
std::vector<std::string> ReceivedByB(const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(ReadAll(kDir + "README.md"));
  std::string line;
  const std::regex re("^(" + name + "_[0-9]+\\.bin) a>b .*");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_match(line, m, re)) continue;
    if (line.find("DROPPED") != std::string::npos) continue;
    out.push_back(m[1]);
  }
  return out;
}

// The output of `conntrackd -C b.conf ARGS` in NAME.txt, one line each,
// without " [active since Ns]", sorted.
std::vector<std::string> Recorded(const std::string& name,
                                  const std::string& args) {
  std::istringstream in(ReadAll(kDir + name + ".txt"));
  std::string line;
  std::vector<std::string> out;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("$ ", 0) == 0) {
      in_block = line == "$ conntrackd -C b.conf " + args;
      continue;
    }
    if (!in_block || line.empty()) continue;
    const size_t at = line.find(" [active since ");
    if (at != std::string::npos) line.resize(at);
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class NullSender : public SyncSender {
 public:
  bool Send(size_t, const uint8_t*, size_t) override { return true; }
};

struct Replay {
  std::vector<std::string> plain, xml, expects;
  int64_t malformed = 0;
  size_t expectations = 0;
  size_t files = 0;
};

Replay ReplayCapture(const std::string& name, SyncMode mode, bool stream) {
  NullSender sender;
  SyncEngineConfig c;
  c.mode = mode;
  SyncEngine e(c, {"a"}, {{"198.18.0.1", 0}}, &sender, nullptr);
  Replay r;
  std::string pending;
  for (const auto& f : ReceivedByB(name)) {
    const std::string bytes = ReadAll(kDir + f);
    pending += bytes;
    const size_t used =
        e.Receive(0, reinterpret_cast<const uint8_t*>(pending.data()),
                  pending.size(), stream, 0, 0);
    pending.erase(0, stream ? used : pending.size());
    ++r.files;
  }
  for (int64_t v : e.peer_stats(0).malformed) r.malformed += v;
  r.expectations = e.cache(0).expectations();
  e.cache(0).ForEachExpect([&](const SyncCache::ExpectEntry& x) {
    nf_expect* exp = SyncExpectToExpect(x.expect);
    nfexp_attr_unset(exp, ATTR_EXP_TIMEOUT);
    r.expects.push_back(ExpectLine(exp, false));
    nfexp_destroy(exp);
  });
  std::sort(r.expects.begin(), r.expects.end());
  e.cache(0).ForEach([&](const SyncCache::Entry& x) {
    nf_conntrack* ct = SyncFlowToConntrack(x.flow);
    for (bool xml : {false, true}) {
      std::string line = ConntrackdFlowLine(ct, xml, 0);
      line.pop_back();  // the newline
      const size_t at = line.find(" [active since ");
      if (at != std::string::npos) line.resize(at);
      (xml ? r.xml : r.plain).push_back(line);
    }
    nfct_destroy(ct);
  });
  std::sort(r.plain.begin(), r.plain.end());
  std::sort(r.xml.begin(), r.xml.end());
  return r;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

struct Capture {
  const char* name;
  SyncMode mode;
  bool stream;
};

class SyncCapture : public ::testing::TestWithParam<Capture> {};

TEST_P(SyncCapture, ReplayLeavesWhatConntrackdShowed) {
  const Capture& c = GetParam();
  Replay r = ReplayCapture(c.name, c.mode, c.stream);
  ASSERT_GT(r.files, 20u) << "capture listing not found in README.md";
  EXPECT_EQ(r.malformed, 0);
  const auto xml = Recorded(c.name, "-e -x");
  const auto plain = Recorded(c.name, "-e");
  ASSERT_GT(xml.size(), 5u);
  EXPECT_EQ(Join(r.xml), Join(xml));
  EXPECT_EQ(Join(r.plain), Join(plain));
  const auto expects = Recorded(c.name, "-e expect");
  EXPECT_EQ(r.expectations, expects.size());
  EXPECT_EQ(Join(r.expects), Join(expects));
}

INSTANTIATE_TEST_SUITE_P(
    Conntrackd147, SyncCapture,
    ::testing::Values(Capture{"ftfw", SyncMode::kFtfw, false},
                      Capture{"notrack", SyncMode::kNotrack, false},
                      Capture{"tcp", SyncMode::kFtfw, true}),
    [](const ::testing::TestParamInfo<Capture>& i) {
      return std::string(i.param.name);
    });

}  // namespace
}  // namespace ctcollect
