// BatchReceiver and ConnectToKernel on real netlink sockets: one user
// socket sends to another by port id, which needs no privilege.
#include "collector/netlink/netlink_socket.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

namespace ctcollect {
namespace {

std::unique_ptr<NetlinkSocket> OpenOrFail() {
  std::error_code ec;
  auto s = NetlinkSocket::Open(0, &ec);
  EXPECT_TRUE(s) << ec.message();
  return s;
}

// Sends `len` bytes of the pattern starting at `seed` to `to`'s port.
// Returns 0 or errno.
int SendTo(const NetlinkSocket& from, const NetlinkSocket& to, size_t len,
           uint8_t seed) {
  std::vector<uint8_t> b(len);
  for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(seed + i);
  sockaddr_nl dst{};
  dst.nl_family = AF_NETLINK;
  dst.nl_pid = to.portid();
  ssize_t n = sendto(from.fd(), b.data(), b.size(), MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&dst), sizeof(dst));
  return n == static_cast<ssize_t>(len) ? 0 : errno;
}

bool HasPattern(const uint8_t* p, size_t len, uint8_t seed) {
  for (size_t i = 0; i < len; ++i) {
    if (p[i] != static_cast<uint8_t>(seed + i)) return false;
  }
  return true;
}

class BatchReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rx_ = OpenOrFail();
    tx_ = OpenOrFail();
    ASSERT_TRUE(rx_ && tx_);
  }
  std::unique_ptr<NetlinkSocket> rx_, tx_;
};

TEST_F(BatchReceiverTest, ReceivesEveryDatagramInOrderAligned) {
  const size_t lens[] = {20, 333, 1, 256, 8, 1999, 77};
  for (size_t i = 0; i < std::size(lens); ++i) {
    ASSERT_EQ(SendTo(*tx_, *rx_, lens[i], static_cast<uint8_t>(i * 31)), 0);
  }
  BatchReceiver batch(64, 8192);
  std::error_code ec;
  ASSERT_EQ(batch.Receive(rx_->fd(), &ec), static_cast<int>(std::size(lens)));
  EXPECT_FALSE(ec);
  for (size_t i = 0; i < std::size(lens); ++i) {
    int k = static_cast<int>(i);
    EXPECT_EQ(batch.length(k), lens[i]) << i;
    EXPECT_FALSE(batch.truncated(k)) << i;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(batch.data(k)) % 8, 0u) << i;
    EXPECT_TRUE(
        HasPattern(batch.data(k), lens[i], static_cast<uint8_t>(i * 31)))
        << i;
  }
  EXPECT_EQ(batch.Receive(rx_->fd(), &ec), 0);
  EXPECT_FALSE(ec);
}

TEST_F(BatchReceiverTest, TakesAtMostTheBatchSize) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(SendTo(*tx_, *rx_, 100, i), 0);
  BatchReceiver batch(3, 1024);
  EXPECT_EQ(batch.max_datagrams(), 3u);
  std::error_code ec;
  EXPECT_EQ(batch.Receive(rx_->fd(), &ec), 3);
  EXPECT_TRUE(HasPattern(batch.data(2), 100, 2));
  EXPECT_EQ(batch.Receive(rx_->fd(), &ec), 2);
  EXPECT_TRUE(HasPattern(batch.data(0), 100, 3));
  EXPECT_TRUE(HasPattern(batch.data(1), 100, 4));
  EXPECT_EQ(batch.Receive(rx_->fd(), &ec), 0);
  EXPECT_FALSE(ec);
}

TEST_F(BatchReceiverTest, TellsATruncatedDatagramFromOneThatFitsExactly) {
  ASSERT_EQ(SendTo(*tx_, *rx_, 64, 1), 0);
  ASSERT_EQ(SendTo(*tx_, *rx_, 65, 2), 0);
  ASSERT_EQ(SendTo(*tx_, *rx_, 10, 3), 0);
  BatchReceiver batch(8, 64);
  std::error_code ec;
  ASSERT_EQ(batch.Receive(rx_->fd(), &ec), 3);
  EXPECT_FALSE(batch.truncated(0));
  EXPECT_EQ(batch.length(0), 64u);
  EXPECT_TRUE(batch.truncated(1));
  EXPECT_EQ(batch.length(1), 64u);  // what was kept
  EXPECT_TRUE(HasPattern(batch.data(1), 64, 2));
  EXPECT_FALSE(batch.truncated(2));
  EXPECT_TRUE(HasPattern(batch.data(2), 10, 3));
}

TEST_F(BatchReceiverTest, ReportsAnError) {
  BatchReceiver batch(8, 64);
  std::error_code ec;
  EXPECT_EQ(batch.Receive(-1, &ec), -1);
  EXPECT_EQ(ec.value(), EBADF);
}

TEST(NetlinkSocketTest, ConnectedToTheKernelRefusesOtherSockets) {
  auto rx = OpenOrFail();
  auto tx = OpenOrFail();
  ASSERT_TRUE(rx && tx);
  ASSERT_EQ(SendTo(*tx, *rx, 16, 0), 0);  // before: accepted
  ASSERT_FALSE(rx->ConnectToKernel());
  EXPECT_EQ(SendTo(*tx, *rx, 16, 0), ECONNREFUSED);
  BatchReceiver batch(8, 64);
  std::error_code ec;
  EXPECT_EQ(batch.Receive(rx->fd(), &ec), 1);  // only the one from before
  EXPECT_FALSE(ec);
}

}  // namespace
}  // namespace ctcollect
