#include "exporters/http_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <stdexcept>

#include "exporters/landing_page.h"

namespace ctcollect {
namespace {

void Reply(mg_connection* conn, int status, const char* content_type,
           const std::string& body) {
  const char* reason = status == 200   ? "OK"
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
  std::unique_ptr<FnHandler> metrics, landing, healthy, ready;
};

HttpServer::HttpServer(const HttpOptions& opts, const SnapshotSource* source)
    : opts_(opts),
      collectable_(source, opts.version),
      handlers_(std::make_unique<Handlers>()) {
  std::string ports;
  for (const auto& l : opts_.listen) {
    if (!ports.empty()) ports += ",";
    ports += l;
  }
  std::vector<std::string> civet_opts = {
      "listening_ports", ports,
      "num_threads", std::to_string(opts_.threads),
      "request_timeout_ms", "10000",
      "enable_keep_alive", "yes",
      "keep_alive_timeout_ms", "10000",
      "max_request_size", "16384",
  };
  try {
    server_ = std::make_unique<CivetServer>(civet_opts);
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on " + ports + ": " + e.what());
  }

  handlers_->metrics = std::make_unique<FnHandler>([this](mg_connection* c) {
    std::ostringstream os;
    prometheus::TextSerializer().Serialize(os, collectable_.Collect());
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
                                opts_.version));
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
  server_->addHandler(opts_.telemetry_path, handlers_->metrics.get());
  server_->addHandler("/-/healthy", handlers_->healthy.get());
  server_->addHandler("/-/ready", handlers_->ready.get());
  server_->addHandler("/", handlers_->landing.get());
}

HttpServer::~HttpServer() {
  if (server_) server_->close();
}

std::vector<int> HttpServer::ports() const { return server_->getListeningPorts(); }

}  // namespace ctcollect
