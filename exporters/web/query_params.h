// HTTP query strings (outside bytes) into key -> value, URL-decoded.
// Bounded: at most 32 parameters of at most 1024 bytes each; repeated keys
// and malformed escapes are errors with a one-line reason. Pure.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ctcollect {

std::optional<std::map<std::string, std::string>> ParseQueryString(
    std::string_view query, std::string* error);

}  // namespace ctcollect
