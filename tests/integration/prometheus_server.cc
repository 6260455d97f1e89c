#include "tests/integration/prometheus_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/daemon.h"
#include "tests/integration/test_netns.h"

namespace ctcollect::itest {

void SleepSeconds(double s) {
  timespec ts{static_cast<time_t>(s),
              static_cast<long>((s - static_cast<long>(s)) * 1e9)};
  nanosleep(&ts, nullptr);
}

PrometheusServer::PrometheusServer(const std::vector<Target>& targets) {
  if (Shell("command -v prometheus").exit_code != 0) {
    error_ = "the prometheus binary is missing (Debian package prometheus)";
    return;
  }
  char tmpl[] = "/tmp/ctct-prom-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  port_ = FreePort();
  std::ofstream cfg(dir_ + "/prometheus.yml");
  cfg << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         "  evaluation_interval: 1s\nscrape_configs:\n";
  for (const auto& t : targets) {
    cfg << "  - job_name: " << t.job << "\n"
        << "    static_configs:\n      - targets: ['" << t.address << "']\n"
        << t.extra;
  }
  cfg.close();
  std::string log = dir_ + "/prometheus.log";
  pid_ = fork();
  if (pid_ == 0) {
    freopen(log.c_str(), "w", stderr);
    freopen(log.c_str(), "a", stdout);
    std::string c = "--config.file=" + dir_ + "/prometheus.yml";
    std::string d = "--storage.tsdb.path=" + dir_ + "/data";
    std::string l = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    execlp("prometheus", "prometheus", c.c_str(), d.c_str(), l.c_str(),
           "--log.level=warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 300; ++i) {
    CommandResult r =
        Shell("curl -fsS http://127.0.0.1:" + std::to_string(port_) +
              "/-/ready 2>/dev/null");
    if (r.exit_code == 0) {
      ok_ = true;
      return;
    }
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    SleepSeconds(0.1);
  }
  error_ = "prometheus did not become ready: " + this->log();
}

PrometheusServer::~PrometheusServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
      SleepSeconds(0.1);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) Shell("rm -rf " + ShellQuote(dir_));
}

std::string PrometheusServer::log() const {
  std::ifstream in(dir_ + "/prometheus.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool PrometheusServer::Query(const std::string& promql,
                             std::vector<Sample>* out,
                             std::string* error) const {
  out->clear();
  // Python's json and urllib do the HTTP and the parsing; one line per
  // sample: value, then label=value pairs separated by \x1f.
  std::string script =
      "import json,sys,urllib.parse,urllib.request\n"
      "u='http://127.0.0.1:" +
      std::to_string(port_) +
      "/api/v1/query?'+urllib.parse.urlencode({'query':sys.argv[1]})\n"
      "try:\n"
      "  d=json.load(urllib.request.urlopen(u,timeout=10))\n"
      "except urllib.error.HTTPError as e:\n"
      "  d=json.load(e)\n"
      "if d.get('status')!='success':\n"
      "  print('ERROR '+d.get('error','?').replace('\\n',' ')); sys.exit(0)\n"
      "r=d['data']['result']; t=d['data']['resultType']\n"
      "if t=='scalar': r=[{'metric':{},'value':r}]\n"
      "for s in r:\n"
      "  print(s['value'][1]+''.join('\\x1f'+k+'='+v for k,v in "
      "s['metric'].items()))\n";
  std::ofstream(dir_ + "/query.py") << script;
  CommandResult r =
      ShellSplit("python3 " + dir_ + "/query.py " + ShellQuote(promql));
  if (r.exit_code != 0) {
    if (error) *error = r.err;
    return false;
  }
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("ERROR ", 0) == 0) {
      if (error) *error = line.substr(6);
      return false;
    }
    Sample s;
    size_t pos = line.find('\x1f');
    s.value = std::strtod(line.substr(0, pos).c_str(), nullptr);
    while (pos != std::string::npos) {
      size_t next = line.find('\x1f', pos + 1);
      std::string kv = line.substr(pos + 1, next - pos - 1);
      size_t eq = kv.find('=');
      s.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
      pos = next;
    }
    out->push_back(std::move(s));
  }
  return true;
}

}  // namespace ctcollect::itest
