// A real Prometheus server (the Debian package's binary) for a test: it
// listens on a free loopback port, keeps its data in a temporary directory
// and scrapes the given targets every second. Queries go through its HTTP
// API.
//
// Thread safety: one thread owns it.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ctcollect::itest {

class PrometheusServer {
 public:
  struct Target {
    std::string job;
    std::string address;  // HOST:PORT
    std::string extra;    // more scrape_config YAML, indented 4 spaces
  };
  struct Sample {
    std::map<std::string, std::string> labels;  // __name__ included
    double value = 0;
  };

  // Starts it and waits for /-/ready (up to 30 s); see ok()/error().
  explicit PrometheusServer(const std::vector<Target>& targets);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string log() const;

  // An instant query: false (with the server's error in *error) if the
  // query did not succeed; the vector or scalar result in *out.
  bool Query(const std::string& promql, std::vector<Sample>* out,
             std::string* error = nullptr) const;
  // Polls `promql` until fn(result) is true or `seconds` pass.
  template <typename Fn>
  bool WaitFor(const std::string& promql, Fn fn, double seconds) const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ok_ = false;
  std::string error_;
};

void SleepSeconds(double s);

template <typename Fn>
bool PrometheusServer::WaitFor(const std::string& promql, Fn fn,
                               double seconds) const {
  for (double waited = 0; waited <= seconds; waited += 0.5) {
    std::vector<Sample> r;
    if (Query(promql, &r) && fn(r)) return true;
    SleepSeconds(0.5);
  }
  return false;
}

}  // namespace ctcollect::itest
