#include "tests/integration/prom_text.h"

#include <sstream>

namespace ctcollect::itest {
namespace {

// Splits `name{a="1",b="2"}` into its name and labels.
bool SplitSeries(const std::string& s, std::string* name,
                 std::map<std::string, std::string>* labels) {
  size_t brace = s.find('{');
  *name = s.substr(0, brace);
  if (brace == std::string::npos) return true;
  size_t i = brace + 1;
  while (i < s.size() && s[i] != '}') {
    size_t eq = s.find('=', i);
    if (eq == std::string::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return false;
    std::string key = s.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) ++j;
      value.push_back(s[j]);
    }
    (*labels)[key] = value;
    i = j + 1;
    if (i < s.size() && s[i] == ',') ++i;
  }
  return true;
}

}  // namespace

std::string Series(const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  std::string s = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (v.empty()) continue;
    if (!first) s += ",";
    first = false;
    s += k + "=\"" + v + "\"";
  }
  return s + "}";
}

std::map<std::string, double> ParsePromText(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    std::string name;
    std::map<std::string, std::string> labels;
    if (!SplitSeries(line.substr(0, sp), &name, &labels)) continue;
    out[Series(name, labels)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

void ForEachSample(
    const std::map<std::string, double>& m, const std::string& name,
    const std::function<void(const std::map<std::string, std::string>&, double)>& fn) {
  for (const auto& [key, v] : m) {
    std::string n;
    std::map<std::string, std::string> labels;
    if (SplitSeries(key, &n, &labels) && n == name) fn(labels, v);
  }
}

double SumSeries(const std::map<std::string, double>& m, const std::string& name,
                 const std::map<std::string, std::string>& match) {
  double sum = 0;
  for (const auto& [key, v] : m) {
    std::string n;
    std::map<std::string, std::string> labels;
    if (!SplitSeries(key, &n, &labels) || n != name) continue;
    bool ok = true;
    for (const auto& [k, want] : match) {
      auto it = labels.find(k);
      std::string have = it == labels.end() ? "" : it->second;
      ok = ok && have == want;
    }
    if (ok) sum += v;
  }
  return sum;
}

}  // namespace ctcollect::itest
