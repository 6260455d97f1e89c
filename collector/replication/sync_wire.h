// conntrackd's replication wire format (version 1), both ways: the 8-byte
// message header (16 with ACK/NACK/RESYNC ranges), conntrack and
// expectation messages as TLV attributes, and the walk over a datagram or
// a TCP stream of concatenated messages with conntrackd's error reasons.
// Layout and quirks: shared/reference/conntrackd.md §1.
//
// Outside bytes: every length is checked; malformed input yields an error
// reason, never a crash or an out-of-bounds read. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "collector/replication/sync_flow.h"

namespace ctcollect {

inline constexpr uint8_t kSyncVersion = 1;
inline constexpr size_t kSyncHeaderSize = 8;
inline constexpr size_t kSyncAckSize = 16;
inline constexpr size_t kSyncMaxMessage = 4096;

enum SyncType : uint8_t {
  kSyncCtNew = 0,
  kSyncCtUpd = 1,
  kSyncCtDel = 2,
  kSyncExpNew = 3,
  kSyncExpUpd = 4,
  kSyncExpDel = 5,
  kSyncCtl = 10,
};

enum SyncFlag : uint8_t {
  kSyncFlagUnused = 0x01,
  kSyncFlagResync = 0x02,
  kSyncFlagNack = 0x04,
  kSyncFlagAck = 0x08,
  kSyncFlagAlive = 0x10,
  kSyncFlagHello = 0x20,
  kSyncFlagHelloBack = 0x40,
};

struct SyncHeader {
  uint8_t version = kSyncVersion;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint16_t len = 0;  // whole message
  uint32_t seq = 0;
  uint32_t from = 0, to = 0;  // ACK, NACK, RESYNC only
  // conntrackd's IS_DATA / IS_ACK / ... predicates.
  bool IsData() const {
    return type <= kSyncExpDel &&
           (flags & ~(kSyncFlagHello | kSyncFlagHelloBack)) == 0;
  }
  bool IsAck() const { return type == kSyncCtl && (flags & kSyncFlagAck); }
  bool IsNack() const { return type == kSyncCtl && (flags & kSyncFlagNack); }
  bool IsResync() const {
    return type == kSyncCtl && (flags & kSyncFlagResync);
  }
  bool IsAlive() const { return type == kSyncCtl && (flags & kSyncFlagAlive); }
  bool HasRange() const { return IsAck() || IsNack() || IsResync(); }
};

// Why a message or datagram was dropped: conntrackd's receive error
// counters (`-s network`), plus the ones it does not have.
enum class SyncError : uint8_t {
  kNone = 0,
  kBadVersion,  // "Wrong protocol version"
  kBadHeader,   // "Malformed header" (e.g. an ACK with to < from)
  kBadType,     // "Bad message type"
  kBadPayload,  // "Malformed payload" (attributes that do not parse)
  kTruncated,   // "Truncated message" (< header bytes left)
  kBadSize,     // "Bad message size"
  kForeign,     // from an address that is no configured peer
  kBadHmac,     // ctcollectd peers: a missing or wrong HMAC
  kCount,
};
// The label value of ctcollect_peer_malformed_total{reason}.
const char* SyncErrorName(SyncError e);

// Writes a header into `out` (kSyncHeaderSize bytes, or kSyncAckSize when
// h.HasRange()), in network order. Returns the bytes written.
size_t PutSyncHeader(const SyncHeader& h, uint8_t* out);
// Reads the first 8 bytes of `p` (the caller checked n >= 8), plus from/to
// when the header says it has a range and n >= 16.
SyncHeader ReadSyncHeader(const uint8_t* p, size_t n);

// Encodes one conntrack message (header + attributes in conntrackd's
// order) into `out` (at least kSyncMaxMessage bytes). Returns its length.
size_t EncodeSyncFlow(const SyncFlow& f, uint8_t type, uint32_t seq,
                      uint8_t flags, uint8_t* out);

// Decodes the attributes of a conntrack message (`p`, `n` = the bytes
// after the header) into *out (reset first), with msg2ct's rules. False if
// malformed (*out is then partly filled).
bool DecodeSyncFlow(const uint8_t* p, size_t n, SyncFlow* out);

// A replicated expectation (message types 3-5, ExpectationSync).
struct SyncTuple {
  uint8_t family = 0, l4proto = 0;
  uint16_t sport = 0, dport = 0;  // host order
  uint8_t src[16] = {}, dst[16] = {};
};
struct SyncExpect {
  uint32_t present = 0;  // bit i: expectation attribute id i
  SyncTuple master, expected, mask, nat;
  uint32_t timeout = 0, flags = 0, klass = 0, nat_dir = 0;
  char helper[16] = {};
  char fn[32] = {};
};
inline constexpr uint8_t kNtaExpMax = 21;
bool DecodeSyncExpect(const uint8_t* p, size_t n, SyncExpect* out);
size_t EncodeSyncExpect(const SyncExpect& e, uint8_t type, uint32_t seq,
                        uint8_t flags, uint8_t* out);

// Walks the messages concatenated in `data`, as conntrackd's channel
// handler does: calls on_message(header, message bytes, message length)
// for each whole message whose length checks out, and returns the error
// that ended the walk (kNone if it consumed everything). With `stream`
// (TCP), a partial message at the end is not an error: *consumed says how
// far the walk got, and the rest waits for more bytes.
template <typename F>
SyncError WalkSyncMessages(const uint8_t* data, size_t n, bool stream,
                           size_t* consumed, F&& on_message) {
  size_t off = 0;
  SyncError err = SyncError::kNone;
  while (off < n) {
    const size_t remain = n - off;
    if (remain < kSyncHeaderSize) {
      if (!stream) err = SyncError::kTruncated;
      break;
    }
    SyncHeader h = ReadSyncHeader(data + off, remain);
    if (h.len == 0) {
      err = SyncError::kBadSize;
      break;
    }
    if (h.len > remain) {
      if (!stream) err = SyncError::kBadSize;
      break;
    }
    if (h.HasRange()) {
      if (remain < kSyncAckSize && !stream) {
        err = SyncError::kTruncated;
        break;
      }
      if (h.len < kSyncAckSize) {
        err = SyncError::kBadSize;
        break;
      }
    } else if (h.len < kSyncHeaderSize) {
      err = SyncError::kBadSize;
      break;
    }
    on_message(h, data + off, static_cast<size_t>(h.len));
    off += h.len;
  }
  if (consumed != nullptr) *consumed = off;
  return err;
}

}  // namespace ctcollect
