// The helpers of a namespace as `ctcollect helpers` prints them: the
// kernel helpers that own flows or expectations now, and the user-space
// helpers of nfnetlink_cthelper (or why there are none). Text or JSON.
// Pure; thread-safe.
#pragma once

#include <string>

#include "collector/flows/snapshot.h"

namespace ctcollect {

std::string HelpersText(const NetnsSnapshot& ns);
std::string HelpersJson(const NetnsSnapshot& ns);

}  // namespace ctcollect
