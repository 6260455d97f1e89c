#include "collector/discovery/bounded_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace ctcollect {
namespace {

std::string TempFile(const std::string& content) {
  std::string path = ::testing::TempDir() + "bounded_file_" +
                     std::to_string(getpid()) + "_" +
                     std::to_string(content.size());
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(BoundedFile, ReadsUpToTheCap) {
  std::string path = TempFile("12345");
  std::string out;
  EXPECT_FALSE(ReadFileBounded(path, 5, &out));
  EXPECT_EQ(out, "12345");
  EXPECT_EQ(ReadFileBounded(path, 4, &out), std::errc::file_too_large);
  EXPECT_EQ(out, "1234");
  std::remove(path.c_str());
}

TEST(BoundedFile, ReadsProcFilesThatSayTheyAreEmpty) {
  std::string out;
  EXPECT_FALSE(ReadFileBounded("/proc/self/mountinfo", 16 << 20, &out));
  EXPECT_NE(out.find(" - "), std::string::npos);
}

TEST(BoundedFile, MissingFile) {
  std::string out;
  EXPECT_EQ(ReadFileBounded("/nonexistent/x", 10, &out),
            std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace ctcollect
