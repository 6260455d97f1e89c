// The live flow table of one network namespace: conntrack id -> a 16-byte
// record. It exists so that an UPDATE or DESTROY event can move a flow out of
// the bucket it was counted in without a dump.
//
// An OpenTable (base/open_table.h) with the load factor kept between 1/4
// and 3/4, so memory per flow stays between 21 and 64 bytes and is usually
// ~32. Lookups never allocate; an insert allocates only when the table
// doubles.
//
// Thread safety: not thread-safe. Owned and used by one ingest thread;
// others read only the figures it publishes (see FlowTracker).
#pragma once

#include <cstddef>
#include <cstdint>

#include "collector/base/open_table.h"

namespace ctcollect {

struct FlowRecord {
  uint32_t id;
  // 16 bits of a hash of the original tuple: conntrack ids are 32-bit
  // hashes, so a table of 1M flows holds ~120 pairs of equal ids; with the
  // tag, two flows share a key about once in 500 tables of 1M.
  uint16_t tag;
  uint16_t zone;
  uint8_t meta;   // kUsed | kDead | kTouched | family bit | protocol (4 bits)
  uint8_t state;  // index into StateName(proto, ...)
  // Dump generation that last confirmed this flow, modulo 256: a flow that
  // missed a complete dump is swept at its end, so live flows are never
  // more than a few generations behind.
  uint8_t gen;
  uint8_t status;  // FlowStatus bits, for the status breakdown gauges
  uint32_t since;  // monotonic seconds of the last state change

  static constexpr uint8_t kUsed = 0x80;
  // Destroyed while a dump runs: kept as a tombstone so a dump message about
  // it that was already queued cannot bring it back.
  static constexpr uint8_t kDead = 0x40;
  // Set by an event during the running dump: the event is at least as new as
  // the dump's view, so the dump must not overwrite it.
  static constexpr uint8_t kTouched = 0x20;
  static constexpr uint8_t kFamilyBit = 0x10;
  static constexpr uint8_t kProtoMask = 0x0f;

  bool used() const { return meta & kUsed; }
  bool dead() const { return meta & kDead; }
  bool touched() const { return meta & kTouched; }
  uint8_t family() const { return (meta & kFamilyBit) ? 1 : 0; }
  uint8_t proto() const { return meta & kProtoMask; }
  void set_class(uint8_t family, uint8_t proto) {
    meta =
        static_cast<uint8_t>((meta & (kUsed | kDead | kTouched)) |
                             (family ? kFamilyBit : 0) | (proto & kProtoMask));
  }
};
static_assert(sizeof(FlowRecord) == 16, "FlowRecord must stay compact");

// The key of the flow table and of the flow tracker's extra labels:
// conntrack id and tuple tag.
struct FlowId {
  uint32_t id;
  uint16_t tag;
};

// OpenTable's traits for records keyed by (id, tag): `Record` has
// `uint32_t id`, `uint16_t tag` and `uint8_t meta`, whose bit Record::kUsed
// marks a used slot.
template <typename Record>
struct IdTagTraits {
  using Key = FlowId;
  static constexpr size_t kMaxLoadPercent = 75;
  // An event storm must not wait while a table of millions doubles
  // (base/open_table.h, base/table_memory.h SpareTableMemory).
  static constexpr bool kFaultInAhead = true;
  static uint64_t Hash(const Key& k) { return k.id; }
  static uint64_t Hash(const Record& r) { return r.id; }
  static bool Used(const Record& r) { return r.meta & Record::kUsed; }
  static bool Matches(const Record& r, const Key& k, uint64_t /*hash*/) {
    return r.id == k.id && r.tag == k.tag;
  }
  static void Claim(Record* r, const Key& k, uint64_t /*hash*/) {
    r->id = k.id;
    r->tag = k.tag;
    r->meta = Record::kUsed;
  }
  static void Release(Record* r) { r->meta = 0; }
};

// A table of records keyed by (id, tag), with the lookups spelled as the
// tracker uses them.
template <typename Record>
class IdTable : public OpenTable<Record, IdTagTraits<Record>> {
  using Base = OpenTable<Record, IdTagTraits<Record>>;

 public:
  // 64 slots to start with (and to shrink back to): a host watches
  // hundreds of namespaces, most of them with a handful of flows, and
  // OpenTable's default of 1,024 slots was 16 KiB per table each.
  explicit IdTable(size_t min_capacity = 64) : Base(min_capacity) {}
  Record* Find(uint32_t id, uint16_t tag = 0) { return Base::Find({id, tag}); }
  Record* Insert(uint32_t id, uint16_t tag, bool* inserted) {
    return Base::Insert({id, tag}, inserted);
  }
  Record* Insert(uint32_t id, bool* inserted) {
    return Base::Insert({id, 0}, inserted);
  }
  void Prefetch(uint32_t id) const { Base::Prefetch({id, 0}); }
};

using FlowTable = IdTable<FlowRecord>;

extern template class OpenTable<FlowRecord, IdTagTraits<FlowRecord>>;

}  // namespace ctcollect
