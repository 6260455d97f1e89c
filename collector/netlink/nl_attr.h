// Attribute walking for netlink messages. libmnl's mnl_attr_for_each macros
// assign void* (not valid C++) and each accessor is a call into the shared
// library; on the per-event path those calls cost more than the parsing
// itself, so these inline equivalents do the same bounds-checked walk.
//
// Pure functions over the bytes they are given; thread-safe.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ctcollect {

inline uint16_t AttrType(const nlattr* a) {
  return a->nla_type & NLA_TYPE_MASK;
}
inline const void* AttrPayload(const nlattr* a) {
  return reinterpret_cast<const char*>(a) + NLA_HDRLEN;
}
inline size_t AttrPayloadLen(const nlattr* a) {
  return a->nla_len - NLA_HDRLEN;
}

// Unaligned-safe reads of fixed-size payloads (host order as stored).
inline uint8_t AttrU8(const nlattr* a) {
  return *static_cast<const uint8_t*>(AttrPayload(a));
}
inline uint16_t AttrU16(const nlattr* a) {
  uint16_t v;
  std::memcpy(&v, AttrPayload(a), sizeof(v));
  return v;
}
inline uint32_t AttrU32(const nlattr* a) {
  uint32_t v;
  std::memcpy(&v, AttrPayload(a), sizeof(v));
  return v;
}
inline uint64_t AttrU64(const nlattr* a) {
  uint64_t v;
  std::memcpy(&v, AttrPayload(a), sizeof(v));
  return v;
}

// Calls fn(const nlattr*) for each attribute in [data, data + len); stops
// early and returns false as soon as fn does. An attribute whose length is
// shorter than its header or runs past the end ends the walk, as do
// trailing bytes too short to be an attribute (the kernel's nla_for_each
// rules).
template <typename Fn>
bool ForEachAttr(const void* data, size_t len, Fn fn) {
  const char* p = static_cast<const char*>(data);
  const char* end = p + len;
  while (end - p >= static_cast<ptrdiff_t>(NLA_HDRLEN)) {
    const auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < NLA_HDRLEN || a->nla_len > end - p) break;
    if (!fn(a)) return false;
    p += NLA_ALIGN(a->nla_len);
  }
  return true;
}

template <typename Fn>
bool ForEachNested(const nlattr* nest, Fn fn) {
  return ForEachAttr(AttrPayload(nest), AttrPayloadLen(nest), fn);
}

// The attributes of a message after its `extra` header bytes.
template <typename Fn>
bool ForEachMsgAttr(const nlmsghdr* nlh, size_t extra, Fn fn) {
  size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(extra);
  if (nlh->nlmsg_len < hdr) return true;
  return ForEachAttr(reinterpret_cast<const char*>(nlh) + hdr,
                     nlh->nlmsg_len - hdr, fn);
}

}  // namespace ctcollect

namespace ctcollect {

// True if a whole message starts at `nlh` within `remaining` bytes. Unlike
// mnl_nlmsg_ok, the length is compared unsigned: libmnl casts nlmsg_len to
// int, so a length above 2^31 passes its check and mnl_nlmsg_next then
// walks off the buffer (found by fuzzing; tests/regress/
// issue_nlmsg_len_overflow_test.cc).
inline bool NlmsgOk(const nlmsghdr* nlh, size_t remaining) {
  return remaining >= sizeof(nlmsghdr) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
         nlh->nlmsg_len <= remaining;
}

// Calls fn(const nlmsghdr*) for each whole message in [data, data + len);
// stops when fn returns false or the bytes run out.
template <typename Fn>
void ForEachMsg(const void* data, size_t len, Fn fn) {
  const char* p = static_cast<const char*>(data);
  size_t remaining = len;
  while (NlmsgOk(reinterpret_cast<const nlmsghdr*>(p), remaining)) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(p);
    if (!fn(nlh)) return;
    size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
    if (step >= remaining) return;
    p += step;
    remaining -= step;
  }
}

}  // namespace ctcollect
