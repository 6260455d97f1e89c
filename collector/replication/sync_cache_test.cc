#include "collector/replication/sync_cache.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ctcollect {
namespace {

SyncFlow Udp(uint16_t sport, uint16_t zone = 0) {
  SyncFlow f;
  f.Set(kNtaIpv4);
  f.family = AF_INET;
  f.src[0] = 198;
  f.Set(kNtaL4proto);
  f.l4proto = 17;
  f.Set(kNtaPort);
  f.sport = sport;
  f.dport = 53;
  if (zone != 0) {
    f.Set(kNtaZone);
    f.zone = zone;
  }
  return f;
}

TEST(SyncCache, UpsertsDeletesAndCountsLikeConntrackd) {
  SyncCache c;
  c.Apply(kSyncCtNew, Udp(1), 100, 0);
  c.Apply(kSyncCtUpd, Udp(1), 101, 0);     // the same flow
  c.Apply(kSyncCtUpd, Udp(2), 101, 0);     // an update for an unknown flow adds
  c.Apply(kSyncCtNew, Udp(1, 7), 101, 0);  // another zone: another flow
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.buckets().at({AF_INET, 17, 255}), 3);
  c.Apply(kSyncCtDel, Udp(1), 102, 0);
  c.Apply(kSyncCtDel, Udp(9), 102, 0);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.stats().created, 3);
  EXPECT_EQ(c.stats().updated, 1);
  EXPECT_EQ(c.stats().deleted, 1);
  EXPECT_EQ(c.stats().delete_failed, 1);
  int seen = 0;
  c.ForEach([&](const SyncCache::Entry& e) {
    ++seen;
    EXPECT_EQ(e.created_unix, 101);
  });
  EXPECT_EQ(seen, 2);
  c.Clear();
  EXPECT_TRUE(c.buckets().empty());
}

TEST(SyncCache, ExpiresWhatWasNotRefreshed) {
  SyncCache c;
  c.Apply(kSyncCtNew, Udp(1), 0, 1000);
  c.Apply(kSyncCtNew, Udp(2), 0, 5000);
  EXPECT_EQ(c.ExpireBefore(2000), 1u);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.buckets().at({AF_INET, 17, 255}), 1);
}

}  // namespace
}  // namespace ctcollect
