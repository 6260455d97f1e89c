#include "collector/netlink/nfct_dump.h"

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <sys/socket.h>

#include <cerrno>

namespace ctcollect {
namespace {

// The dump state behind libnetfilter_conntrack's void* callback argument:
// conntrack entries and expectations are walked the same way.
template <typename Object>
struct DumpState {
  const std::function<bool(Object*)>* sink;
  bool stopped = false;
};

template <typename Object>
int OnObject(enum nf_conntrack_msg_type, Object* obj, void* data) {
  auto* st = static_cast<DumpState<Object>*>(data);
  if (!(*st->sink)(obj)) {
    st->stopped = true;
    return NFCT_CB_STOP;
  }
  return NFCT_CB_CONTINUE;
}

nfct_handle* OpenIn(const NetnsHandle& ns, std::error_code* ec,
                    uint8_t subsys = CONNTRACK) {
  ScopedNetns in(ns);
  if (in.error()) {
    *ec = in.error();
    return nullptr;
  }
  nfct_handle* h = nfct_open(subsys, 0);
  if (h == nullptr) *ec = std::error_code(errno, std::generic_category());
  return h;
}

}  // namespace

std::error_code DumpFlows(const NetnsHandle& ns, const FlowSink& sink) {
  std::error_code ec;
  nfct_handle* h = OpenIn(ns, &ec);
  if (h == nullptr) return ec;
  DumpState<nf_conntrack> st{&sink};
  nfct_callback_register(h, NFCT_T_ALL, OnObject<nf_conntrack>, &st);
  uint32_t family = AF_UNSPEC;
  int r = nfct_query(h, NFCT_Q_DUMP, &family);
  if (r < 0 && !st.stopped)
    ec = std::error_code(errno, std::generic_category());
  nfct_close(h);
  return ec;
}

std::error_code DumpExpectations(const NetnsHandle& ns,
                                 const ExpectSink& sink) {
  std::error_code ec;
  nfct_handle* h = OpenIn(ns, &ec, EXPECT);
  if (h == nullptr) return ec;
  DumpState<nf_expect> st{&sink};
  nfexp_callback_register(h, NFCT_T_ALL, OnObject<nf_expect>, &st);
  uint32_t family = AF_UNSPEC;
  int r = nfexp_query(h, NFCT_Q_DUMP, &family);
  if (r < 0 && !st.stopped)
    ec = std::error_code(errno, std::generic_category());
  nfct_close(h);
  return ec;
}

std::error_code FlushFlows(const NetnsHandle& ns) {
  std::error_code ec;
  nfct_handle* h = OpenIn(ns, &ec);
  if (h == nullptr) return ec;
  uint32_t family = AF_UNSPEC;
  if (nfct_query(h, NFCT_Q_FLUSH, &family) < 0) {
    ec = std::error_code(errno, std::generic_category());
  }
  nfct_close(h);
  return ec;
}

}  // namespace ctcollect
