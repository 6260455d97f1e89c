// The main thread's life once everything has started: it waits for
// signals and, between them, keeps the service manager informed (READY=1
// after the first dump, watchdog pings while the ingest threads are
// alive). SIGHUP reloads the config; SIGTERM or SIGINT end the loop.
//
// Thread safety: the main thread only; `signals` must be blocked in every
// thread (they are then delivered only to sigtimedwait here).
#pragma once

#include <signal.h>

#include "collector/watch/netns_set.h"
#include "daemon/config_reload.h"
#include "daemon/service_notify.h"

namespace ctcollect {

// Returns the signal that ended it.
int RunUntilStopped(const sigset_t& signals, const NetnsSet& collector,
                    ConfigReloader* reloader, ServiceNotifier* notifier);

}  // namespace ctcollect
