// Prometheus text exposition format into "name{k="v",...}" -> value, with
// labels sorted and empty-valued labels dropped, so a test can name a
// series regardless of label order.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace ctcollect::itest {

std::map<std::string, double> ParsePromText(const std::string& text);

// The key ParsePromText uses for a series: Series("m", {{"a","1"}}).
std::string Series(const std::string& name,
                   const std::map<std::string, std::string>& labels);

// Calls fn(labels, value) for every sample of `name`.
void ForEachSample(
    const std::map<std::string, double>& m, const std::string& name,
    const std::function<void(const std::map<std::string, std::string>&, double)>& fn);

// Sum of every sample of `name` whose labels include all of `match`.
double SumSeries(const std::map<std::string, double>& m, const std::string& name,
                 const std::map<std::string, std::string>& match);

}  // namespace ctcollect::itest
