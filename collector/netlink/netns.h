// Network namespaces the daemon watches: resolving `--netns NAME|PATH`, and
// entering one on the calling thread for as long as a socket is opened there
// (a socket stays in the namespace it was created in).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

namespace ctcollect {

// What tells namespaces apart: the device and inode of their nsfs file
// (what `stat -L -c %i /proc/PID/ns/net` prints is the inode).
struct NetnsId {
  dev_t dev = 0;
  uint64_t inode = 0;
  bool operator==(const NetnsId& o) const {
    return dev == o.dev && inode == o.inode;
  }
  bool operator<(const NetnsId& o) const {
    return dev != o.dev ? dev < o.dev : inode < o.inode;
  }
};

// An open handle on a network namespace (an fd on its nsfs file).
class NetnsHandle {
 public:
  // The daemon's own namespace (label ""), or a named one: NAME resolves to
  // /run/netns/NAME (as `ip netns` creates them), anything with a '/' is a
  // path (e.g. /proc/PID/ns/net). Throws std::system_error on failure
  // (start-up only).
  static NetnsHandle Own();
  static NetnsHandle Open(const std::string& name_or_path);
  // The namespace at `path` (a /proc/PID/ns/net or an nsfs mount), called
  // `label`, if it is still the one `expected` names (it may have been
  // replaced since it was found). Throws std::system_error.
  static NetnsHandle OpenFound(const std::string& path, std::string label,
                               const NetnsId& expected);

  NetnsHandle(NetnsHandle&& o) noexcept;
  NetnsHandle& operator=(NetnsHandle&& o) noexcept;
  ~NetnsHandle();

  int fd() const { return fd_; }
  const std::string& label() const { return label_; }
  const std::string& path() const { return path_; }
  // Device and inode of the namespace held ({0, 0} if fstat fails).
  NetnsId id() const;

  // Whether path() still names the namespace this handle holds. False once
  // it was deleted (`ip netns delete`; the process of a /proc/PID/ns/net
  // path exited) or replaced by another namespace under the same name. The
  // handle itself keeps the old namespace alive until it is closed. The
  // daemon's own namespace is always still there.
  bool StillNamed() const;

 private:
  NetnsHandle(int fd, std::string label, std::string path)
      : fd_(fd), label_(std::move(label)), path_(std::move(path)) {}
  int fd_ = -1;
  std::string label_;
  std::string path_;
};

// A shared handle: dumps hold one while they run, so a namespace the
// collector stops watching meanwhile stays valid for them.
using NetnsRef = std::shared_ptr<const NetnsHandle>;

// Moves the calling thread into `ns` and back to where it was on
// destruction. Check ok() before relying on it.
class ScopedNetns {
 public:
  explicit ScopedNetns(const NetnsHandle& ns);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  const std::error_code& error() const { return error_; }

 private:
  int saved_ = -1;
  std::error_code error_;
};

}  // namespace ctcollect
