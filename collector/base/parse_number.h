// Numbers as operators write them in flags, config files and queries:
// decimal or 0x hex, bounded. Outside bytes: a bad one is nullopt, never an
// exception.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ctcollect {

// Decimal or 0x hex, at most `max`.
std::optional<uint64_t> ParseNumber(const std::string& s, uint64_t max);

}  // namespace ctcollect
