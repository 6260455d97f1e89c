#include "collector/netlink/netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace ctcollect {

NetnsHandle NetnsHandle::Own() {
  int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "open /proc/thread-self/ns/net");
  }
  return NetnsHandle(fd, "", "/proc/thread-self/ns/net");
}

namespace {

// An fd on the network namespace at `path`; `what` starts error messages.
int OpenNetnsFile(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            what + ": open " + path);
  }
  // A file that is no namespace (also what /run/netns/NAME is for a moment
  // while `ip netns add` or `delete` runs, before or after its mount).
  if (::ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    ::close(fd);
    throw std::system_error(EINVAL, std::generic_category(),
                            what + ": " + path + " is not a network namespace");
  }
  return fd;
}

}  // namespace

NetnsHandle NetnsHandle::Open(const std::string& name_or_path) {
  if (name_or_path.empty()) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "--netns: empty namespace name");
  }
  std::string path = name_or_path.find('/') == std::string::npos
                         ? "/run/netns/" + name_or_path
                         : name_or_path;
  int fd = OpenNetnsFile(path, "--netns " + name_or_path);
  return NetnsHandle(fd, name_or_path, path);
}

NetnsHandle NetnsHandle::OpenFound(const std::string& path, std::string label,
                                   const NetnsId& expected) {
  NetnsHandle h(OpenNetnsFile(path, "netns \"" + label + "\""),
                std::move(label), path);
  if (!(h.id() == expected)) {
    throw std::system_error(ESTALE, std::generic_category(),
                            "netns \"" + h.label() + "\": " + path +
                                " is another namespace by now");
  }
  return h;
}

NetnsId NetnsHandle::id() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return {};
  return {st.st_dev, static_cast<uint64_t>(st.st_ino)};
}

NetnsHandle::NetnsHandle(NetnsHandle&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      label_(std::move(o.label_)),
      path_(std::move(o.path_)) {}

NetnsHandle& NetnsHandle::operator=(NetnsHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    label_ = std::move(o.label_);
    path_ = std::move(o.path_);
  }
  return *this;
}

NetnsHandle::~NetnsHandle() {
  if (fd_ >= 0) ::close(fd_);
}

bool NetnsHandle::StillNamed() const {
  if (label_.empty()) return true;
  struct stat held, named;
  if (::fstat(fd_, &held) != 0) return false;
  if (::stat(path_.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

ScopedNetns::ScopedNetns(const NetnsHandle& ns) {
  saved_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0) {
    error_ = std::error_code(errno, std::generic_category());
    return;
  }
  // Already there (the daemon's own namespace): no setns(), which needs
  // CAP_SYS_ADMIN, so the daemon runs with CAP_NET_ADMIN alone.
  struct stat here, there;
  if (::fstat(saved_, &here) == 0 && ::fstat(ns.fd(), &there) == 0 &&
      here.st_dev == there.st_dev && here.st_ino == there.st_ino) {
    ::close(saved_);
    saved_ = -1;
    return;
  }
  if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
    error_ = std::error_code(errno, std::generic_category());
    ::close(saved_);
    saved_ = -1;
  }
}

ScopedNetns::~ScopedNetns() {
  if (saved_ >= 0) {
    // Cannot fail for a namespace we were just in; if it did, this thread
    // would be in the wrong namespace, which must never go unnoticed.
    if (::setns(saved_, CLONE_NEWNET) != 0) std::abort();
    ::close(saved_);
  }
}

}  // namespace ctcollect
