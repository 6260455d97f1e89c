#include "exporters/web/http_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "collector/base/clock.h"
#include "collector/base/log.h"
#include "collector/config/options.h"
#include "collector/flows/flow_filter.h"
#include "exporters/formats/flow_stream.h"
#include "exporters/formats/stats_json.h"
#include "exporters/formats/top_format.h"
#include "exporters/formats/top_query.h"
#include "exporters/web/flows_access.h"
#include "exporters/web/front_metrics.h"
#include "exporters/web/http_front.h"
#include "exporters/web/landing_page.h"
#include "exporters/web/query_params.h"
#include "exporters/web/tls_context.h"
#include "exporters/web/web_config.h"

namespace ctcollect {
namespace {

// Opens a connection to 127.0.0.1:port and closes it unused.
void Knock(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  close(fd);
}

void Reply(mg_connection* conn, int status, const char* content_type,
           const std::string& body) {
  const char* reason = status == 200   ? "OK"
                       : status == 400 ? "Bad Request"
                       : status == 403 ? "Forbidden"
                       : status == 404 ? "Not Found"
                       : status == 503 ? "Service Unavailable"
                                       : "Error";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\n\r\n",
            status, reason, content_type, body.size());
  mg_write(conn, body.data(), body.size());
}

class FnHandler : public CivetHandler {
 public:
  using Fn = std::function<void(mg_connection*)>;
  explicit FnHandler(Fn fn) : fn_(std::move(fn)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    fn_(conn);
    return true;
  }

 private:
  Fn fn_;
};

}  // namespace

struct HttpServer::Handlers {
  std::unique_ptr<FnHandler> metrics, landing, healthy, ready, flows, top,
      stats;
};

namespace {

// /api/v1/flows: the kernel's flows, filtered, streamed with chunked
// encoding one flow at a time (bounded memory for any table size).
void ServeFlows(mg_connection* c, const HttpOptions& opts) {
  const mg_request_info* ri = mg_get_request_info(c);
  std::string error;
  auto params =
      ParseQueryString(ri->query_string ? ri->query_string : "", &error);
  std::optional<FlowFilter> filter;
  std::optional<FlowFormat> format;
  if (params) {
    auto it = params->find("format");
    format = ParseFlowFormat(it == params->end() ? "" : it->second);
    if (!format || *format == FlowFormat::kConntrackd ||
        *format == FlowFormat::kConntrackdXml) {
      error = "bad format: json or xml";
      format.reset();
    } else {
      filter = ParseFlowFilter(*params, &error,
                               opts.classifier ? opts.classifier() : nullptr);
    }
  }
  if (!params || !format || !filter) {
    Reply(c, 400, "text/plain; charset=utf-8", error + "\n");
    return;
  }
  const std::vector<NetnsRef> namespaces =
      opts.namespaces ? opts.namespaces() : std::vector<NetnsRef>{};
  if (filter->netns) {
    bool known = false;
    for (const NetnsRef& ns : namespaces)
      known |= ns->label() == *filter->netns;
    if (!known) {
      Reply(c, 400, "text/plain; charset=utf-8",
            "bad netns: not watched by this daemon\n");
      return;
    }
  }
  // The header is written here rather than by mg_send_http_ok, which
  // formats a Date with gmtime() (not thread-safe: ThreadSanitizer found
  // workers racing in it). HTTP/1.0 clients get the body unchunked, ended
  // by the close.
  const bool chunked = std::string(ri->http_version) != "1.0";
  mg_printf(
      c,
      "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: "
      "no-store\r\n%s\r\n",
      *format == FlowFormat::kXml ? "application/xml; charset=utf-8"
                                  : "application/json; charset=utf-8",
      chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
  StreamFlows(namespaces, *filter, *format, opts.daemon_start_unix,
              [c, chunked](std::string_view b) {
                if (!chunked) return mg_write(c, b.data(), b.size()) > 0;
                return mg_send_chunk(c, b.data(),
                                     static_cast<unsigned>(b.size())) > 0;
              });
  if (chunked) mg_send_chunk(c, "", 0);
}

// /api/v1/top: one ranking of each watched namespace, from the sketches
// (never a walk of the flow table).
void ServeTop(mg_connection* c, const HttpOptions& opts) {
  const mg_request_info* ri = mg_get_request_info(c);
  std::string error;
  auto params =
      ParseQueryString(ri->query_string ? ri->query_string : "", &error);
  if (!params) {
    Reply(c, 400, "text/plain; charset=utf-8", error + "\n");
    return;
  }
  TopAnswer a = AnswerTopQuery(*params, opts.top);
  if (a.status != 200) {
    Reply(c, a.status, "text/plain; charset=utf-8", a.error + "\n");
    return;
  }
  Reply(c, 200, "application/json; charset=utf-8",
        TopJson(a.query.by, a.rankings, WallClockSeconds()));
}

}  // namespace

// What every request must get past before a handler sees it.
struct HttpServer::Gate {
  std::unique_ptr<BasicAuth> auth;
  // The front that owns the public addresses: only its relays may reach
  // civetweb's internal port.
  std::unique_ptr<HttpFront> front;
  FlowsApi flows_api = FlowsApi::kLocal;

  bool FromFront(const mg_request_info* ri) const {
    return front != nullptr && std::string(ri->remote_addr) == "127.0.0.1" &&
           front->IsRelay(ri->remote_port);
  }
  // The address of the client the front's relay carries.
  std::string ClientAddress(const mg_request_info* ri) const {
    return FromFront(ri) ? front->ClientOf(ri->remote_port) : std::string();
  }
  bool MayReadFlows(const mg_request_info* ri) const {
    return FlowsAllowed(flows_api, ClientAddress(ri));
  }
};

namespace {

// Every request passes here first: only the front's own connections get in
// (403 for anything else on the internal port); with basic auth
// configured, one without valid credentials gets 401.
int BeginRequest(mg_connection* conn) {
  const auto* server =
      static_cast<const CivetServer*>(mg_get_user_data(mg_get_context(conn)));
  const auto* gate =
      static_cast<const HttpServer::Gate*>(server->getUserContext());
  if (gate == nullptr) return 0;
  if (!gate->FromFront(mg_get_request_info(conn))) {
    mg_printf(conn,
              "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
    return 403;
  }
  if (gate->auth->enabled() &&
      !gate->auth->Check(mg_get_header(conn, "Authorization"))) {
    static const char kBody[] = "401 Unauthorized\n";
    mg_printf(conn,
              "HTTP/1.1 401 Unauthorized\r\n"
              "WWW-Authenticate: Basic realm=\"ctcollectd\"\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
              sizeof(kBody) - 1, kBody);
    return 401;
  }
  const mg_request_info* ri = mg_get_request_info(conn);
  if (RevealsAddresses(ri->local_uri) && !gate->MayReadFlows(ri)) {
    Reply(conn, 403, "text/plain; charset=utf-8",
          FlowsRefusal(gate->flows_api));
    return 403;
  }
  return 0;
}

}  // namespace

HttpServer::HttpServer(const HttpOptions& opts, const SnapshotSource* source)
    : opts_(opts),
      collectable_(source, opts.version, opts.sync_snapshot),
      handlers_(std::make_unique<Handlers>()) {
  CheckListenAddresses(opts_.listen);
  WebConfig web;
  if (!opts_.web_config_file.empty()) {
    web = LoadWebConfig(opts_.web_config_file);
  }
  gate_ = std::make_unique<Gate>();
  gate_->auth = std::make_unique<BasicAuth>(web.basic_auth_users);
  // The flow endpoints: loopback clients only, unless every client must
  // authenticate or --web.flows-api says otherwise.
  const bool clients_authenticate =
      !web.basic_auth_users.empty() ||
      (web.tls && web.tls->client_auth_type == "RequireAndVerifyClientCert");
  gate_->flows_api = ResolveFlowsApi(opts_.flows_api, clients_authenticate);
  Log(LogLevel::kInfo,
      std::string(
          "flow and top-talker endpoints (/api/v1/flows, /api/v1/top): ") +
          (gate_->flows_api == FlowsApi::kAll   ? "every client"
           : gate_->flows_api == FlowsApi::kOff ? "off"
                                                : "loopback clients only") +
          " (--web.flows-api=" + FlowsApiName(gate_->flows_api) + ")");
  // The TLS context first: a bad certificate or key is a configuration
  // error, found before anything listens.
  TlsContext tls = web.tls ? NewTlsContext(*web.tls) : nullptr;
  // The front owns the public addresses (http_front.h) and listens first;
  // civetweb answers on an internal loopback port, one request per
  // connection. The gate has its front before civetweb's workers start.
  gate_->front = std::make_unique<HttpFront>(opts_.listen, std::move(tls));
  const std::string internal = "127.0.0.1:0";
  std::vector<std::string> civet_opts = {
      "listening_ports",
      internal,
      "num_threads",
      std::to_string(opts_.threads),
      "request_timeout_ms",
      "5000",
      "enable_keep_alive",
      "no",
      "max_request_size",
      "16384",
      "listen_backlog",
      "1024",
      "connection_queue",
      "1024",
      // Header and body leave in separate writes: without this, Nagle and
      // the front's delayed ACK add 40 ms to every answer.
      "tcp_nodelay",
      "1",
  };
  if (!web.headers.empty()) {
    std::string lines;
    for (const auto& [name, value] : web.headers) {
      lines += (lines.empty() ? "" : "\r\n") + name + ": " + value;
    }
    civet_opts.insert(civet_opts.end(), {"additional_header", lines});
  }
  CivetCallbacks callbacks;  // its constructor zeroes every callback
  callbacks.begin_request = BeginRequest;
  try {
    server_ =
        std::make_unique<CivetServer>(civet_opts, &callbacks, gate_.get());
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on " + internal + ": " + e.what());
  }
  gate_->front->Start(server_->getListeningPorts()[0]);

  handlers_->metrics = std::make_unique<FnHandler>([this](mg_connection* c) {
    std::vector<prometheus::MetricFamily> families = collectable_.Collect();
    RenderFrontMetrics(gate_->front->stats(), &families);
    std::ostringstream os;
    prometheus::TextSerializer().Serialize(os, families);
    Reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", os.str());
  });
  handlers_->landing =
      std::make_unique<FnHandler>([this, source](mg_connection* c) {
        const mg_request_info* ri = mg_get_request_info(c);
        if (std::string(ri->local_uri) != "/") {
          Reply(c, 404, "text/plain; charset=utf-8", "404 page not found\n");
          return;
        }
        Reply(c, 200, "text/html; charset=utf-8",
              RenderLandingPage(source->TakeSnapshot(), opts_.telemetry_path,
                                gate_->MayReadFlows(ri), opts_.version));
      });
  handlers_->healthy = std::make_unique<FnHandler>([](mg_connection* c) {
    Reply(c, 200, "text/plain; charset=utf-8", "Healthy\n");
  });
  handlers_->ready = std::make_unique<FnHandler>([source](mg_connection* c) {
    if (source->Ready()) {
      Reply(c, 200, "text/plain; charset=utf-8", "Ready\n");
    } else {
      Reply(c, 503, "text/plain; charset=utf-8",
            "Not ready: the first table dump is still running\n");
    }
  });
  handlers_->flows = std::make_unique<FnHandler>(
      [this](mg_connection* c) { ServeFlows(c, opts_); });
  handlers_->top = std::make_unique<FnHandler>(
      [this](mg_connection* c) { ServeTop(c, opts_); });
  handlers_->stats = std::make_unique<FnHandler>([source](mg_connection* c) {
    Reply(c, 200, "application/json; charset=utf-8",
          StatsJson(source->TakeSnapshot(), WallClockSeconds()));
  });
  server_->addHandler(opts_.telemetry_path, handlers_->metrics.get());
  server_->addHandler("/api/v1/flows", handlers_->flows.get());
  server_->addHandler("/api/v1/top", handlers_->top.get());
  server_->addHandler("/api/v1/stats", handlers_->stats.get());
  server_->addHandler("/-/healthy", handlers_->healthy.get());
  server_->addHandler("/-/ready", handlers_->ready.get());
  server_->addHandler("/", handlers_->landing.get());
}

void HttpServer::CheckListenAddresses(const std::vector<std::string>& listen) {
  for (const auto& l : listen) HttpFront::CheckListenAddress(l);
}

HttpServer::~HttpServer() {
  // civetweb's workers stop first (server_ is declared after gate_, so it
  // is destroyed first too): they read the gate and its front until then,
  // and the front goes on relaying their last answers.
  if (!server_) return;
  // civetweb's master thread sees mg_stop's flag only when its poll of the
  // listening socket returns, and that poll waits up to 2 s
  // (SOCKET_TIMEOUT_QUANTUM in civetweb 1.15): the daemon took 2 s to stop.
  // A connection to that socket ends the poll, so one is made every 10 ms
  // until the server has stopped; each is closed unused, and a worker that
  // takes one before the flag is up reads its end at once.
  std::atomic<bool> stopped{false};
  std::thread knocker([&stopped, port = server_->getListeningPorts()[0]] {
    while (!stopped.load()) {
      Knock(port);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  server_->close();
  stopped.store(true);
  knocker.join();
}

std::vector<int> HttpServer::ports() const { return gate_->front->ports(); }

}  // namespace ctcollect
