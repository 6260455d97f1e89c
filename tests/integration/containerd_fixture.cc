#include "tests/integration/containerd_fixture.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace ctcollect::itest {
namespace {

namespace fs = std::filesystem;

// The containerd namespace the CRI plugin uses.
constexpr char kCtrNamespace[] = "k8s.io";
constexpr char kDirName[] = "ctcd-";  // /tmp/ctcd-<pid>-XXXXXX
constexpr char kCgroupPrefix[] = "ctct-itest-";

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// True for an ELF executable without an interpreter: it runs in a rootfs
// that holds nothing else.
bool IsStaticElf(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!f.read(reinterpret_cast<char*>(&eh), sizeof(eh)) ||
      std::string_view(reinterpret_cast<char*>(eh.e_ident), 4) != ELFMAG ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return false;
  }
  f.seekg(static_cast<std::streamoff>(eh.e_phoff));
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!f.read(reinterpret_cast<char*>(&ph), sizeof(ph))) return false;
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

std::string StaticBusybox() {
  for (const char* p : {"/bin/busybox", "/usr/bin/busybox"}) {
    if (IsStaticElf(p)) return p;
  }
  return "";
}

std::string CheckMissing() {
  if (geteuid() != 0) return "needs root (containerd, runc, nsenter)";
  if (Shell("command -v containerd && command -v ctr && command -v runc && "
            "command -v nsenter && command -v nft")
          .exit_code != 0) {
    return "needs containerd, ctr, runc, nsenter and nft "
           "(scripts/install-deps.sh)";
  }
  if (StaticBusybox().empty()) {
    return "needs a static busybox (package busybox-static)";
  }
  return "";
}

// Every cgroup directory named `parent` at the top of a hierarchy (v1:
// one per controller; v2: one).
std::vector<std::string> CgroupDirs(const std::string& parent) {
  std::vector<std::string> dirs;
  std::error_code ec;
  if (fs::is_directory("/sys/fs/cgroup/" + parent, ec)) {
    dirs.push_back("/sys/fs/cgroup/" + parent);
  }
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    fs::path p = h.path() / parent;
    if (fs::is_directory(p, ec)) dirs.push_back(p);
  }
  return dirs;
}

// Kills what still runs in the cgroups under `parent` (tasks whose shim
// is gone), then removes them, children first.
void RemoveCgroups(const std::string& parent) {
  for (const std::string& dir : CgroupDirs(parent)) {
    std::error_code ec;
    std::vector<fs::path> children;
    for (const auto& c : fs::directory_iterator(dir, ec)) {
      if (c.is_directory(ec)) children.push_back(c.path());
    }
    for (const fs::path& c : children) {
      std::istringstream procs(ReadAll(c / "cgroup.procs"));
      pid_t pid;
      while (procs >> pid) kill(pid, SIGKILL);
    }
    for (const fs::path& c : children) {
      for (int i = 0; i < 50 && rmdir(c.c_str()) != 0 && errno == EBUSY; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    rmdir(dir.c_str());
  }
}

// SIGKILL to every process whose command line mentions one of `needles`:
// containerd's --config and its shims' -address. Not the whole dir: a
// daemon under test names task_root() in its flags.
void KillMentioning(const std::vector<std::string>& needles) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    std::string cmdline = ReadAll("/proc/" + name + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    for (const std::string& needle : needles) {
      if (cmdline.find(needle) != std::string::npos) {
        kill(pid, SIGKILL);
        break;
      }
    }
  }
  closedir(d);
}

// Detaches whatever is mounted under `dir` (nothing, with --rootfs; a
// snapshotter's mount if a test used an image), deepest first.
void UnmountUnder(const std::string& dir) {
  std::istringstream in(ReadAll("/proc/self/mountinfo"));
  std::string line;
  std::vector<std::string> points;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point.rfind(dir + "/", 0) == 0) points.push_back(point);
  }
  std::sort(points.rbegin(), points.rend());
  for (const auto& p : points) umount2(p.c_str(), MNT_DETACH);
}

// A shim killed before its task was deleted leaves its socket in
// /run/containerd/s, named sha256(address/namespace/id)
// (runtime/v2/shim/util_unix.go SocketAddress).
void RemoveShimSockets(const std::string& dir) {
  std::error_code ec;
  std::string ns_dir =
      dir + "/state/io.containerd.runtime.v2.task/" + kCtrNamespace;
  for (const auto& e : fs::directory_iterator(ns_dir, ec)) {
    std::string id = e.path().filename();
    if (id.empty() || id[0] == '.') continue;  // being deleted
    CommandResult sum = Shell(
        "printf %s " + ShellQuote(dir + "/c.sock/" + kCtrNamespace + "/" + id) +
        " | sha256sum");
    std::string hex = sum.out.substr(0, 64);
    if (sum.exit_code != 0 || hex.size() != 64 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      continue;
    }
    std::string socket = "/run/containerd/s/" + hex;
    struct stat st {};
    if (lstat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      unlink(socket.c_str());
    }
  }
}

void RemoveEverything(const std::string& dir, const std::string& cgroup) {
  KillMentioning({dir + "/config.toml", dir + "/c.sock"});
  RemoveShimSockets(dir);
  RemoveCgroups(cgroup);
  UnmountUnder(dir);
  Shell("rm -rf --one-file-system " + ShellQuote(dir));
}

// What fixtures of test processes that died (a timeout's SIGKILL) left.
void SweepStale() {
  DIR* d = opendir("/tmp");
  if (d == nullptr) return;
  std::vector<std::pair<std::string, pid_t>> stale;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    std::string_view prefix = kDirName;
    if (name.rfind(prefix, 0) != 0) continue;
    size_t dash = name.find('-', prefix.size());
    std::string pid = name.substr(prefix.size(), dash - prefix.size());
    if (dash == std::string::npos || pid.empty() || pid.size() > 9 ||
        pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    pid_t p = std::stoi(pid);
    if (p == getpid() || kill(p, 0) == 0 || errno != ESRCH) continue;
    stale.emplace_back("/tmp/" + name, p);
  }
  closedir(d);
  for (const auto& [dir, pid] : stale) {
    RemoveEverything(dir, kCgroupPrefix + std::to_string(pid));
  }
}

std::optional<pid_t> ReadPid(const std::string& path) {
  std::string s = ReadAll(path);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (s.empty() || s.size() > 10 ||
      s.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  long v = std::stol(s);
  if (v <= 0 || v > INT32_MAX) return std::nullopt;
  return static_cast<pid_t>(v);
}

}  // namespace

std::string ContainerdFixture::Missing() {
  static std::once_flag once;
  static std::string why;
  std::call_once(once, [] { why = CheckMissing(); });
  return why;
}

ContainerdFixture::ContainerdFixture() {
  error_ = Missing();
  if (!error_.empty()) return;
  static std::once_flag stale;
  std::call_once(stale, SweepStale);
  std::string tmpl =
      "/tmp/" + std::string(kDirName) + std::to_string(getpid()) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    error_ = "mkdtemp: " + std::string(strerror(errno));
    return;
  }
  dir_ = tmpl;
  address_ = dir_ + "/c.sock";
  cgroup_parent_ = kCgroupPrefix + std::to_string(getpid());
  if (!BuildRootfs()) return;
  ok_ = StartContainerd();
}

ContainerdFixture::~ContainerdFixture() {
  if (dir_.empty()) return;
  if (containerd_pid_ > 0) {
    // Newest first, as a kubelet would not care; each is independent.
    while (!pods_.empty()) {
      DeletePod(pods_.back().id);
      pods_.pop_back();
    }
  }
  StopContainerd();
  RemoveEverything(dir_, cgroup_parent_);
}

std::string ContainerdFixture::task_root() const {
  return dir_ + "/state/io.containerd.runtime.v2.task";
}

std::string ContainerdFixture::log() const {
  return ReadAll(dir_ + "/containerd.log");
}

bool ContainerdFixture::BuildRootfs() {
  std::error_code ec;
  fs::path bin = fs::path(dir_) / "rootfs/bin";
  fs::create_directories(bin, ec);
  if (!ec) fs::copy_file(StaticBusybox(), bin / "busybox", ec);
  for (const char* applet : {"sh", "sleep", "nc", "ping", "ip", "wget", "cat",
                             "ls", "ps", "sysctl"}) {
    if (!ec) fs::create_symlink("busybox", bin / applet, ec);
  }
  if (ec) error_ = "building the rootfs in " + dir_ + ": " + ec.message();
  return !ec;
}

bool ContainerdFixture::StartContainerd() {
  // Plugins that would read or write outside dir_, or are not needed: the
  // CRI plugin (a kubelet's API), /opt/containerd, snapshotters.
  std::ofstream(dir_ + "/config.toml")
      << "version = 2\n"
      << "root = \"" << dir_ << "/root\"\n"
      << "state = \"" << dir_ << "/state\"\n"
      << "disabled_plugins = [\"io.containerd.grpc.v1.cri\", "
         "\"io.containerd.internal.v1.opt\", "
         "\"io.containerd.snapshotter.v1.btrfs\", "
         "\"io.containerd.snapshotter.v1.zfs\", "
         "\"io.containerd.snapshotter.v1.devmapper\", "
         "\"io.containerd.snapshotter.v1.aufs\", "
         "\"io.containerd.tracing.processor.v1.otlp\"]\n"
      << "[grpc]\n  address = \"" << address_ << "\"\n"
      << "[ttrpc]\n  address = \"" << address_ << ".ttrpc\"\n";
  std::string config = dir_ + "/config.toml";
  std::string log_path = dir_ + "/containerd.log";
  int fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto started = std::chrono::steady_clock::now();
  pid_t parent = getpid();
  containerd_pid_ = fork();
  if (containerd_pid_ == 0) {
    // Dies with the test; its shims (own sessions) are swept later.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp("containerd", "containerd", "--config", config.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  if (fd >= 0) close(fd);
  if (containerd_pid_ < 0) {
    error_ = "fork: " + std::string(strerror(errno));
    return false;
  }
  bool up = WaitUntil(
      [&] {
        int status;
        if (waitpid(containerd_pid_, &status, WNOHANG) == containerd_pid_) {
          containerd_pid_ = -1;
          return true;
        }
        struct stat st {};
        return stat(address_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
               Ctr("version").exit_code == 0;
      },
      20);
  start_seconds_ = SecondsSince(started);
  if (containerd_pid_ < 0) {
    error_ = "containerd exited at start (see log())";
    return false;
  }
  if (!up) {
    error_ = "containerd did not answer on " + address_ + " within 20 s";
    return false;
  }
  return true;
}

void ContainerdFixture::StopContainerd() {
  if (containerd_pid_ <= 0) return;
  kill(containerd_pid_, SIGTERM);
  int status;
  if (!WaitUntil(
          [&] { return waitpid(containerd_pid_, &status, WNOHANG) != 0; }, 5)) {
    kill(containerd_pid_, SIGKILL);
    waitpid(containerd_pid_, &status, 0);
  }
  containerd_pid_ = -1;
}

CommandResult ContainerdFixture::Ctr(const std::string& args) const {
  return Shell("ctr --address " + ShellQuote(address_) +
               " --timeout 30s --namespace " + kCtrNamespace + " " + args);
}

std::optional<ContainerdPod> ContainerdFixture::RunPod(
    const std::string& name, const std::string& pod_namespace,
    const std::string& uid) {
  if (!ok_) return std::nullopt;
  ContainerdPod pod;
  pod.id =
      "ctct-" + std::to_string(getpid()) + "-" + std::to_string(next_pod_++);
  pod.name = name;
  pod.pod_namespace = pod_namespace;
  pod.uid = uid;
  pod.bundle_dir = task_root() + "/" + kCtrNamespace + "/" + pod.id;
  std::string annotations;
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"container-type", "sandbox"},
        {"sandbox-id", pod.id},
        {"sandbox-name", name},
        {"sandbox-namespace", pod_namespace},
        {"sandbox-uid", uid}}) {
    annotations +=
        " --annotation " + ShellQuote("io.kubernetes.cri." + key + "=" + value);
  }
  // The default spec makes a new network namespace (no --net-host, no
  // --with-ns network:...); runc brings its lo up. --runc-root keeps
  // runc's state in dir_; --null-io leaves no fifos behind.
  auto started = std::chrono::steady_clock::now();
  CommandResult run =
      Ctr("run --detach --null-io --rootfs --runc-root " +
          ShellQuote(dir_ + "/runc") + " --cgroup " +
          ShellQuote("/" + cgroup_parent_ + "/" + pod.id) + annotations + " " +
          ShellQuote(dir_ + "/rootfs") + " " + pod.id + " /bin/sleep 1000000");
  pod.start_seconds = SecondsSince(started);
  if (run.exit_code != 0) {
    error_ = "ctr run " + pod.id + ": " + run.out;
    DeletePod(pod.id);
    return std::nullopt;
  }
  pods_.push_back(pod);  // from here the destructor deletes it
  auto pid = ReadPid(pod.bundle_dir + "/init.pid");
  if (!pid) {
    error_ = "no pid in " + pod.bundle_dir + "/init.pid";
    return std::nullopt;
  }
  pod.pid = *pid;
  struct stat st {};
  std::string ns = "/proc/" + std::to_string(pod.pid) + "/ns/net";
  if (stat(ns.c_str(), &st) != 0) {
    error_ = "stat " + ns + ": " + strerror(errno);
    return std::nullopt;
  }
  pod.netns_dev = st.st_dev;
  pod.netns_inode = st.st_ino;
  pods_.back() = pod;
  return pod;
}

bool ContainerdFixture::DeletePod(const std::string& id) {
  // --force kills the task (SIGKILL) and waits for it before deleting.
  CommandResult task = Ctr("task delete --force " + id);
  CommandResult container = Ctr("container delete " + id);
  return container.exit_code == 0 &&
         (task.exit_code == 0 ||
          task.out.find("not found") != std::string::npos);
}

bool ContainerdFixture::StopPod(const ContainerdPod& pod) {
  auto it =
      std::find_if(pods_.begin(), pods_.end(),
                   [&](const ContainerdPod& p) { return p.id == pod.id; });
  if (it == pods_.end()) return false;
  bool ok = DeletePod(pod.id);
  if (ok) pods_.erase(it);
  return ok;
}

CommandResult ContainerdFixture::RunInPod(const ContainerdPod& pod,
                                          const std::string& cmd) const {
  return Shell("nsenter --target " + std::to_string(pod.pid) + " --net sh -c " +
               ShellQuote(cmd));
}

bool ContainerdFixture::EnableConntrack(const ContainerdPod& pod) const {
  return RunInPod(pod, kTrackingRuleset).exit_code == 0;
}

}  // namespace ctcollect::itest
