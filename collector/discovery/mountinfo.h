// The network-namespace bind mounts in /proc/self/mountinfo: what `ip netns`,
// Docker and CNI plugins leave under /run/netns and the like. Discovery finds
// namespaces that no process holds any more through them.
//
// The text is outside bytes: a line over kMaxMountinfoLine bytes or one that
// does not follow proc(5) is skipped and counted, never an exception.
//
// Pure; thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctcollect {

inline constexpr size_t kMaxMountinfoLine = 4096;

// One nsfs mount of a network namespace.
struct NsfsMount {
  std::string mount_point;  // octal escapes (\040) decoded
  dev_t dev = 0;            // the nsfs device, as stat() reports it
  uint64_t inode = 0;       // the namespace's inode, from root "net:[N]"
};

struct MountinfoNetns {
  std::vector<NsfsMount> mounts;  // in the order of the text
  size_t skipped_lines = 0;       // malformed or over kMaxMountinfoLine
};

// Every well-formed nsfs mount of a net namespace in `text`; other mounts
// (other file systems, other namespace types) are left out, not counted.
MountinfoNetns ParseMountinfoNetns(std::string_view text);

// "net:[4026532281]" -> 4026532281; anything else -> nullopt.
std::optional<uint64_t> ParseNetNsfsRoot(std::string_view root);

// A mountinfo path field with the kernel's octal escapes (\040 space, \011
// tab, \012 newline, \134 backslash) decoded; nullopt if it would hold a
// NUL. A backslash not followed by three octal digits stays as it is.
std::optional<std::string> DecodeMountinfoPath(std::string_view field);

}  // namespace ctcollect
