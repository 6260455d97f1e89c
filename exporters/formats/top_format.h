// The top-talker rankings as the daemon answers them: JSON for
// /api/v1/top and `ctcollect top ... -o json`, flat lines for the
// client's live view. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "collector/top/top_talkers.h"

namespace ctcollect {

// Schema in the README:
//   {"by":"src","time":UNIX,"netns":[{"name":"","entries":TOTAL,
//    "exact_at":UNIX,"max_error":N,"top":[{"key":"10.0.0.3",
//    "entries":10848,"new_per_second":12.5}, ...]}, ...]}
std::string TopJson(TopBy by, const std::vector<NetnsTopRanking>& rankings,
                    double unix_time);

// One line per figure ("" netns written as "-"; keys have no spaces):
//   netns NAME
//   entries TOTAL
//   exact_at UNIX
//   max_error N
//   key ENTRIES NEW_PER_SECOND KEY
std::string TopFlat(const std::vector<NetnsTopRanking>& rankings);

}  // namespace ctcollect
