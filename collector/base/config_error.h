// The one error type of configuration and start-up: a bad flag, config key,
// file or setting that stops the daemon before anything starts. It carries
// one human-readable line; main prints it and exits with status 78
// (EX_CONFIG). Never thrown once the daemon runs.
//
// Thread safety: a plain exception type.
#pragma once

#include <stdexcept>

namespace ctcollect {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ctcollect
