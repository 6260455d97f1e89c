// Prometheus text exposition format into "name{k="v",...}" -> value, with
// labels sorted and empty-valued labels dropped (Prometheus treats label=""
// as no label), so a test can name a series regardless of label order.
//
// Thread safety: test helpers, for one test thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ctcollect::itest {

using Labels = std::map<std::string, std::string>;

// Parses an exposition. Samples may carry a timestamp; label values may
// hold escaped \\, \" and \n. Every line that is not a sample, a comment or
// blank, and every series that appears twice (Prometheus rejects both), is
// described in `errors` if given, and otherwise skipped.
std::map<std::string, double> ParsePromText(
    const std::string& text, std::vector<std::string>* errors = nullptr);

// The key ParsePromText uses for a series: Series("m", {{"a","1"}}).
std::string Series(const std::string& name, const Labels& labels);

// Splits a key made by Series back into its name and labels.
bool SplitSeries(const std::string& key, std::string* name, Labels* labels);

// Calls fn(labels, value) for every sample of `name`.
void ForEachSample(const std::map<std::string, double>& m,
                   const std::string& name,
                   const std::function<void(const Labels&, double)>& fn);

// Sum of every sample of `name` whose labels include all of `match` (a
// match value "" means the label is absent or empty).
double SumSeries(const std::map<std::string, double>& m,
                 const std::string& name, const Labels& match);

}  // namespace ctcollect::itest
