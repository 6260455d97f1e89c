#include "tests/integration/prom_text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>

namespace ctcollect::itest {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':' || (!first && c >= '0' && c <= '9');
}

// Reads a metric or label name at s[*i]; empty if there is none.
std::string ReadName(const std::string& s, size_t* i) {
  size_t start = *i;
  while (*i < s.size() && IsNameChar(s[*i], *i == start)) ++*i;
  return s.substr(start, *i - start);
}

void SkipBlanks(const std::string& s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t')) ++*i;
}

// Parses `{a="1",b="2"}` at s[*i] (the brace included) into `labels`.
bool ReadLabels(const std::string& s, size_t* i, Labels* labels) {
  if (*i >= s.size() || s[*i] != '{') return true;  // no labels
  ++*i;
  while (true) {
    SkipBlanks(s, i);
    if (*i < s.size() && s[*i] == '}') {
      ++*i;
      return true;
    }
    std::string key = ReadName(s, i);
    SkipBlanks(s, i);
    if (key.empty() || *i + 1 >= s.size() || s[*i] != '=' || s[*i + 1] != '"') {
      return false;
    }
    *i += 2;
    std::string value;
    while (*i < s.size() && s[*i] != '"') {
      if (s[*i] == '\\') {
        if (++*i >= s.size()) return false;
        value.push_back(s[*i] == 'n' ? '\n' : s[*i]);
      } else {
        value.push_back(s[*i]);
      }
      ++*i;
    }
    if (*i >= s.size()) return false;  // unterminated value
    ++*i;
    if (!labels->emplace(key, value).second) return false;  // label twice
    SkipBlanks(s, i);
    if (*i < s.size() && s[*i] == ',') ++*i;
  }
}

std::optional<double> ReadValue(const std::string& token) {
  if (token == "+Inf" || token == "Inf") return HUGE_VAL;
  if (token == "-Inf") return -HUGE_VAL;
  if (token == "NaN") return std::strtod("nan", nullptr);
  if (token.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(token.c_str(), &end);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return v;
}

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string Series(const std::string& name, const Labels& labels) {
  std::string s = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (v.empty()) continue;
    if (!first) s += ",";
    first = false;
    s += k + "=\"" + Escape(v) + "\"";
  }
  return s + "}";
}

bool SplitSeries(const std::string& key, std::string* name, Labels* labels) {
  size_t i = 0;
  *name = ReadName(key, &i);
  labels->clear();
  return !name->empty() && ReadLabels(key, &i, labels) && i == key.size();
}

std::map<std::string, double> ParsePromText(const std::string& text,
                                            std::vector<std::string>* errors) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto error = [&](const std::string& why) {
    if (errors != nullptr) {
      errors->push_back("line " + std::to_string(n) + ": " + why + ": " + line);
    }
  };
  while (std::getline(in, line)) {
    ++n;
    size_t i = 0;
    SkipBlanks(line, &i);
    if (i == line.size() || line[i] == '#') continue;
    std::string name = ReadName(line, &i);
    Labels labels;
    if (name.empty() || !ReadLabels(line, &i, &labels)) {
      error("malformed series");
      continue;
    }
    // The value, then an optional integer timestamp.
    std::istringstream rest(line.substr(i));
    std::string value_token, timestamp, extra;
    rest >> value_token >> timestamp >> extra;
    std::optional<double> value = ReadValue(value_token);
    if (!value || !extra.empty() ||
        (!timestamp.empty() &&
         timestamp.find_first_not_of("-0123456789") != std::string::npos)) {
      error("malformed value");
      continue;
    }
    if (!out.emplace(Series(name, labels), *value).second) {
      error("duplicate series");
    }
  }
  return out;
}

void ForEachSample(const std::map<std::string, double>& m,
                   const std::string& name,
                   const std::function<void(const Labels&, double)>& fn) {
  // Keys start with the name and '{', so the samples of `name` are one run.
  std::string prefix = name + "{";
  for (auto it = m.lower_bound(prefix);
       it != m.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    std::string n;
    Labels labels;
    if (SplitSeries(it->first, &n, &labels)) fn(labels, it->second);
  }
}

double SumSeries(const std::map<std::string, double>& m,
                 const std::string& name, const Labels& match) {
  double sum = 0;
  ForEachSample(m, name, [&](const Labels& labels, double v) {
    for (const auto& [k, want] : match) {
      auto it = labels.find(k);
      if ((it == labels.end() ? "" : it->second) != want) return;
    }
    sum += v;
  });
  return sum;
}

}  // namespace ctcollect::itest
