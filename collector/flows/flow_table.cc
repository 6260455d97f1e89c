#include "collector/flows/flow_table.h"

namespace ctcollect {

// The flow table is instantiated once here; other record types (the flow
// class table) instantiate where they are used.
template class OpenTable<FlowRecord, IdTagTraits<FlowRecord>>;

}  // namespace ctcollect
