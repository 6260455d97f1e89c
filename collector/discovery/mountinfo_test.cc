#include "collector/discovery/mountinfo.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <string>

namespace ctcollect {
namespace {

// Captured on a Debian 12 host after `ip netns add ctc-probe`.
constexpr char kIpNetns[] =
    "46 45 0:4 net:[4026532238] /run/netns/ctc-probe rw shared:2 - nsfs nsfs "
    "rw\n";

TEST(Mountinfo, FindsAnIpNetnsMount) {
  std::string text =
      "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "45 22 0:25 /netns /run/netns rw,nosuid shared:2 - tmpfs tmpfs rw\n" +
      std::string(kIpNetns);
  MountinfoNetns r = ParseMountinfoNetns(text);
  EXPECT_EQ(r.skipped_lines, 0u);
  ASSERT_EQ(r.mounts.size(), 1u);
  EXPECT_EQ(r.mounts[0].mount_point, "/run/netns/ctc-probe");
  EXPECT_EQ(r.mounts[0].dev, makedev(0, 4));
  EXPECT_EQ(r.mounts[0].inode, 4026532238u);
}

TEST(Mountinfo, NoOptionalFieldsAndNoSuperOptions) {
  MountinfoNetns r = ParseMountinfoNetns(
      "46 45 0:4 net:[7] /run/docker/netns/abc rw - nsfs nsfs");
  ASSERT_EQ(r.mounts.size(), 1u);
  EXPECT_EQ(r.mounts[0].inode, 7u);
  EXPECT_EQ(r.skipped_lines, 0u);
}

TEST(Mountinfo, DecodesOctalEscapesInTheMountPoint) {
  MountinfoNetns r = ParseMountinfoNetns(
      "46 45 0:4 net:[9] /run/netns/a\\040b\\134c rw master:3 shared:4 - nsfs "
      "nsfs rw\n");
  ASSERT_EQ(r.mounts.size(), 1u);
  EXPECT_EQ(r.mounts[0].mount_point, "/run/netns/a b\\c");
}

TEST(Mountinfo, LeavesOutOtherNamespaceTypesWithoutCountingThem) {
  MountinfoNetns r = ParseMountinfoNetns(
      "50 45 0:4 mnt:[4026531841] /run/mnt-ns rw - nsfs nsfs rw\n"
      "51 45 0:4 uts:[4026531838] /run/uts-ns rw - nsfs nsfs rw\n");
  EXPECT_TRUE(r.mounts.empty());
  EXPECT_EQ(r.skipped_lines, 0u);
}

TEST(Mountinfo, SkipsAndCountsMalformedLines) {
  const char* bad[] = {
      "garbage",
      "46 45 0:4 net:[9] /run/netns/x rw shared:2 nsfs nsfs rw",  // no " - "
      "46 45 0:4 net:[9] /run/netns/x rw shared:2 - nsfs",        // no source
      "46 45 4 net:[9] /run/netns/x rw - nsfs nsfs rw",           // dev
      "46 45 0:4096000 net:[9] /run/netns/x rw - nsfs nsfs rw",   // minor
      "x 45 0:4 net:[9] /run/netns/x rw - nsfs nsfs rw",          // id
      "46 45 0:4 net:[] /run/netns/x rw - nsfs nsfs rw",          // inode
      "46 45 0:4 net:[99999999999999999999] /x rw - nsfs nsfs rw",
      "46 45 0:4 net:[9 /run/netns/x rw - nsfs nsfs rw",
      "46 45 0:4 net:[9] relative rw - nsfs nsfs rw",  // not absolute
      "46 45 0:4 net:[9] /a\\000b rw - nsfs nsfs rw",  // NUL
      "46 45 0:4 net:[9]  /x rw - nsfs nsfs rw",       // empty field
  };
  for (const char* line : bad) {
    MountinfoNetns r = ParseMountinfoNetns(line);
    EXPECT_TRUE(r.mounts.empty()) << line;
    EXPECT_EQ(r.skipped_lines, 1u) << line;
  }
}

TEST(Mountinfo, SkipsOverlongLinesAndKeepsGoing) {
  std::string text = "46 45 0:4 net:[1] /" +
                     std::string(kMaxMountinfoLine, 'a') +
                     " rw - nsfs nsfs rw\n" + kIpNetns;
  MountinfoNetns r = ParseMountinfoNetns(text);
  EXPECT_EQ(r.skipped_lines, 1u);
  ASSERT_EQ(r.mounts.size(), 1u);
  EXPECT_EQ(r.mounts[0].inode, 4026532238u);
}

TEST(Mountinfo, NetNsfsRoot) {
  EXPECT_EQ(ParseNetNsfsRoot("net:[4026531840]"), 4026531840u);
  EXPECT_EQ(ParseNetNsfsRoot("net:[0]"), std::nullopt);
  EXPECT_EQ(ParseNetNsfsRoot("net:[-1]"), std::nullopt);
  EXPECT_EQ(ParseNetNsfsRoot("net:[1]x"), std::nullopt);
  EXPECT_EQ(ParseNetNsfsRoot("ipc:[1]"), std::nullopt);
  EXPECT_EQ(ParseNetNsfsRoot("net:["), std::nullopt);
}

TEST(Mountinfo, DecodePathKeepsAStrayBackslash) {
  EXPECT_EQ(DecodeMountinfoPath("/a\\9b"), "/a\\9b");
  EXPECT_EQ(DecodeMountinfoPath("/a\\04"), "/a\\04");
  EXPECT_EQ(DecodeMountinfoPath("/a\\777"), "/a\\777");
  EXPECT_EQ(DecodeMountinfoPath("/a\\011"), "/a\t");
}

}  // namespace
}  // namespace ctcollect
