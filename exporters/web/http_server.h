// The daemon's HTTP server: an embedded civetweb server it owns, serving
// the metrics, the landing page and the health endpoints.
//
// Thread safety: handlers run on civetweb's worker threads and only read
// through the thread-safe SnapshotSource / Collectable.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/flows/flow_class.h"
#include "collector/flows/snapshot.h"
#include "collector/netlink/netns.h"
#include "exporters/formats/top_query.h"
#include "exporters/metrics/metrics_collectable.h"
#include "exporters/web/web_config.h"

class CivetServer;

namespace ctcollect {

struct HttpOptions {
  std::vector<std::string> listen;  // civetweb listening_ports entries
  std::string telemetry_path = "/metrics";
  std::string version;
  // Path of the exporter-toolkit web config (TLS, basic auth); "" for none.
  std::string web_config_file;
  // --web.flows-api: "local", "all", "off", or "" for the default (see
  // flows_access.h).
  std::string flows_api;
  int threads = 8;
  // The namespaces watched now, for /api/v1/flows (dumped from the kernel).
  std::function<std::vector<NetnsRef>()> namespaces;
  int64_t daemon_start_unix = 0;
  // The flow classes in force, for class= filters of /api/v1/flows.
  std::function<std::shared_ptr<const FlowClassifier>()> classifier;
  // The top-talker rankings for /api/v1/top (NetnsSet::Top); nullopt when
  // they are off.
  TopSource top;
  // Replication peer figures for /metrics; empty when peer mode is off.
  std::function<SyncSnapshot()> sync_snapshot;
};

class HttpServer {
 public:
  // Binds and starts serving. Throws ConfigError for an address this
  // build cannot serve (IPv6 without civetweb IPv6 support) and
  // std::runtime_error with the reason when it cannot listen (start-up
  // only).
  HttpServer(const HttpOptions& opts, const SnapshotSource* source);
  ~HttpServer();

  // Throws ConfigError for listen addresses (civetweb syntax) this build
  // cannot serve. Lets the daemon refuse them before it opens anything.
  static void CheckListenAddresses(const std::vector<std::string>& listen);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::vector<int> ports() const;

  struct Gate;  // auth and TLS checks of every request

 private:
  struct Handlers;
  HttpOptions opts_;
  MetricsCollectable collectable_;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<Gate> gate_;  // before server_: outlives its threads
  std::unique_ptr<CivetServer> server_;
};

}  // namespace ctcollect
