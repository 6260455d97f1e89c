// Network namespaces the daemon watches: resolving `--netns NAME|PATH`, and
// entering one on the calling thread for as long as a socket is opened there
// (a socket stays in the namespace it was created in).
#pragma once

#include <memory>
#include <string>
#include <system_error>

namespace ctcollect {

// An open handle on a network namespace (an fd on its nsfs file).
class NetnsHandle {
 public:
  // The daemon's own namespace (label ""), or a named one: NAME resolves to
  // /run/netns/NAME (as `ip netns` creates them), anything with a '/' is a
  // path (e.g. /proc/PID/ns/net). Throws std::system_error on failure
  // (start-up only).
  static NetnsHandle Own();
  static NetnsHandle Open(const std::string& name_or_path);

  NetnsHandle(NetnsHandle&& o) noexcept;
  NetnsHandle& operator=(NetnsHandle&& o) noexcept;
  ~NetnsHandle();

  int fd() const { return fd_; }
  const std::string& label() const { return label_; }
  const std::string& path() const { return path_; }

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
