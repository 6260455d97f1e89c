// ctcollectd: composition root. Parses flags, builds the control socket,
// the namespace watchers and the HTTP server, wires them, and waits for a
// signal. No logic lives here.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "collector/base/clock.h"
#include "collector/base/fd_limit.h"
#include "collector/base/log.h"
#include "collector/base/version.h"
#include "collector/config/config_file.h"
#include "collector/config/options.h"
#include "collector/control/control_server.h"
#include "collector/netlink/netns.h"
#include "collector/replication/sync_peer.h"
#include "collector/watch/netns_discovery.h"
#include "collector/watch/netns_set.h"
#include "collector/watch/netns_watcher.h"
#include "daemon/config_reload.h"
#include "daemon/service_notify.h"
#include "daemon/signal_loop.h"
#include "exporters/control/control_verbs.h"
#include "exporters/web/http_server.h"

namespace {
constexpr int kExitConfig = 78;  // EX_CONFIG
constexpr int kExitStartup = 1;
}  // namespace

int main(int argc, char** argv) {
  using namespace ctcollect;
  const std::vector<std::string> args(argv + 1, argv + argc);
  DaemonOptions opts;
  try {
    opts = LoadDaemonOptions(args);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ctcollectd: %s\n", e.what());
    return kExitConfig;
  }
  if (opts.show_help) {
    std::fputs(DaemonUsage().c_str(), stdout);
    return 0;
  }
  if (opts.show_version) {
    std::printf("ctcollectd %s\n", kVersion);
    return 0;
  }
  SetLogLevel(opts.log_level);
  // glibc raises its mmap threshold to the largest block freed (up to
  // 32 MiB): after one storm grew and shrank the flow table, the next
  // storm's table came from the heap and its 34 MiB stayed there (the
  // storm test found it). A fixed threshold keeps large blocks mmap'd, so
  // memory goes back to the kernel when a table shrinks.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  RaiseOpenFilesLimit();

  // Block the signals we wait for before any thread starts, so every
  // thread inherits the mask and only sigwait() sees them.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  sigaddset(&wait_set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &wait_set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<NetnsHandle> namespaces;
  try {
    if (opts.netns.empty()) namespaces.push_back(NetnsHandle::Own());
    for (const auto& n : opts.netns) namespaces.push_back(NetnsHandle::Open(n));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctcollectd: %s\n", e.what());
    return kExitConfig;
  }

  NetnsSetOptions sopts;
  sopts.watcher.resync_interval = opts.resync_interval;
  sopts.watcher.buffer_size = opts.buffer_size;
  sopts.watcher.buffer_max = opts.buffer_max;
  sopts.watcher.enable_accounting = opts.enable_accounting;
  sopts.watcher.top_enabled = opts.top_enabled;
  sopts.watcher.top_min_share = opts.top_min_share;
  sopts.ingest_threads = opts.ingest_threads;
  sopts.discovered_full_detail = opts.netns_detail_full;
  sopts.full_detail_labels = opts.netns_detail_full_for;
  NetnsSet collector(sopts);
  std::unique_ptr<NetnsDiscovery> discovery;
  std::unique_ptr<ControlVerbs> control_service;
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<SyncPeer> sync;
  try {
    HttpOptions hopts;
    for (const auto& l : opts.listen_addresses) {
      hopts.listen.push_back(NormalizeListenAddress("--web.listen-address", l));
    }
    HttpServer::CheckListenAddresses(hopts.listen);

    // Then the control socket: a second daemon on the same socket must
    // fail before it opens anything else.
    ControlVerbs::Options copts;
    copts.stop_daemon = [] { kill(getpid(), SIGTERM); };
    control_service = std::make_unique<ControlVerbs>(&collector, copts);
    ControlServerOptions sopts;
    sopts.path = opts.control_socket;
    sopts.group = opts.control_socket_group;
    control = std::make_unique<ControlServer>(sopts, control_service.get());
    control_service->set_counters(&control->counters());

    for (auto& ns : namespaces) collector.Add(std::move(ns));
    if (opts.netns_discover) {
      DiscoveryOptions dopts;
      dopts.interval = opts.netns_discover_interval;
      dopts.runtime_dirs = opts.runtime_dirs;
      discovery = std::make_unique<NetnsDiscovery>(dopts, &collector);
      discovery->ScanOnce();
    }

    // Replication peer mode replicates the first watched namespace.
    if (opts.sync.mode != SyncMode::kOff) {
      SyncOptions so = opts.sync;
      so.local_resync = opts.resync_interval;
      sync = std::make_unique<SyncPeer>(so, collector.Namespaces()[0]);
      control_service->set_sync(sync.get());
      hopts.sync_snapshot = [&sync] { return sync->Snapshot(); };
    }

    hopts.telemetry_path = opts.telemetry_path;
    hopts.web_config_file = opts.web_config_file;
    hopts.flows_api = opts.flows_api;
    hopts.version = kVersion;
    hopts.namespaces = [&collector] { return collector.Namespaces(); };
    hopts.top = [&collector](TopBy by, size_t limit,
                             const std::optional<std::string>& netns) {
      return collector.Top(by, limit, netns);
    };
    hopts.daemon_start_unix = WallClockUnix();
    hopts.classifier = [&collector] { return collector.Classifier(); };
    http = std::make_unique<HttpServer>(hopts, &collector);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ctcollectd: %s\n", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctcollectd: %s\n", e.what());
    return kExitStartup;
  }
  collector.SetClassifier(MakeClassifier(opts));
  collector.SetPolicySelectors(opts.policy_selectors);
  collector.Start();
  if (discovery) discovery->Start();
  if (sync) sync->Start();
  control->Start();
  std::string ports;
  for (int p : http->ports()) ports += " " + std::to_string(p);
  Log(LogLevel::kInfo, std::string("ctcollectd ") + kVersion +
                           " started; HTTP on port(s)" + ports +
                           ", control socket " + opts.control_socket);

  ConfigReloader reloader(args, opts, &collector);
  ServiceNotifier notifier;
  RunUntilStopped(wait_set, collector, &reloader, &notifier);
  control.reset();
  http.reset();
  if (sync) sync->Stop();
  if (discovery) discovery->Stop();
  collector.Stop();
  return 0;
}
