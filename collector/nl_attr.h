// Attribute walking for netlink messages from C++. libmnl's
// mnl_attr_for_each macros assign void* and do not compile as C++; these do
// the same walk, each attribute bounds-checked with mnl_attr_ok.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>

namespace ctcollect {

// Calls fn(const nlattr*) for each attribute in [data, data + len); stops
// early and returns false as soon as fn does. Trailing bytes too short to be
// an attribute end the walk (as in the kernel's nla_for_each_attr).
template <typename Fn>
bool ForEachAttr(const void* data, size_t len, Fn fn) {
  const char* end = static_cast<const char*>(data) + len;
  const auto* a = static_cast<const nlattr*>(data);
  while (mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a)))) {
    if (!fn(a)) return false;
    a = mnl_attr_next(a);
  }
  return true;
}

template <typename Fn>
bool ForEachNested(const nlattr* nest, Fn fn) {
  return ForEachAttr(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest),
                     fn);
}

// The attributes of a message after its `extra` header bytes.
template <typename Fn>
bool ForEachMsgAttr(const nlmsghdr* nlh, size_t extra, Fn fn) {
  size_t hdr = MNL_ALIGN(extra);
  size_t payload = nlh->nlmsg_len >= MNL_NLMSG_HDRLEN
                       ? nlh->nlmsg_len - MNL_NLMSG_HDRLEN
                       : 0;
  if (payload < hdr) return true;
  return ForEachAttr(
      static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + hdr,
      payload - hdr, fn);
}

}  // namespace ctcollect
