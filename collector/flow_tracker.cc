#include "collector/flow_tracker.h"

namespace ctcollect {

void FlowTracker::Count(const FlowRecord& r, uint8_t cls, int64_t d) {
  counters_->AddEntry(r.zone, static_cast<Family>(r.family()),
                      static_cast<Proto>(r.proto()), r.state, d);
  if (r.status) counters_->AddStatus(r.status, d);
  if (cls != kNoClass) {
    class_blocks_[cls]->AddEntry(static_cast<Proto>(r.proto()), r.state, d);
  }
}

uint8_t FlowTracker::ClassOf(const FlowRecord& r) {
  if (!classifier_) return kNoClass;
  const ClassRecord* c = classes_.Find(r.id, r.tag);
  return c != nullptr ? c->cls : kNoClass;
}

void FlowTracker::SetClassOf(const FlowRecord& r, uint8_t old_cls,
                             uint8_t cls) {
  if (old_cls == cls) return;
  if (cls == kNoClass) {
    if (ClassRecord* c = classes_.Find(r.id, r.tag)) classes_.Erase(c);
    return;
  }
  bool inserted;
  classes_.Insert(r.id, r.tag, &inserted)->cls = cls;
}

void FlowTracker::SetClassifier(
    std::shared_ptr<const FlowClassifier> classifier) {
  // Take every classified flow out of its class's gauges.
  classes_.EraseIf([&](const ClassRecord& c) {
    const FlowRecord* r = table_.Find(c.id, c.tag);
    if (r != nullptr && !r->dead()) {
      class_blocks_[c.cls]->AddEntry(static_cast<Proto>(r->proto()), r->state,
                                     -1);
    }
    return true;
  });
  classes_.Clear();
  class_blocks_.clear();
  counters_->DeactivateClasses();
  classifier_.reset();
  if (classifier == nullptr || classifier->empty()) return;
  for (size_t i = 0; i < classifier->size(); ++i) {
    class_blocks_.push_back(counters_->ClassBlockFor(classifier->at(i).name));
  }
  classifier_ = std::move(classifier);
}

void FlowTracker::Publish() {
  table_entries_.store(static_cast<int64_t>(live_flows()),
                       std::memory_order_relaxed);
  table_bytes_.store(static_cast<int64_t>(table_.bytes()),
                     std::memory_order_relaxed);
}

uint8_t FlowTracker::Relabel(FlowRecord* r, const CtMessage& m, bool counted,
                             uint32_t now_s, bool count_transition) {
  uint8_t family = static_cast<uint8_t>(m.family);
  uint8_t proto = static_cast<uint8_t>(m.proto);
  // An UPDATE without CTA_PROTOINFO (the kernel only includes it when the
  // state changed) keeps the state we know; a new flow without one has no
  // state to report.
  uint8_t state = m.has_state ? m.state : (counted ? r->state : kNoState);
  // The kernel leaves CTA_ZONE out for the default zone, on every message.
  uint16_t zone = m.zone;
  uint8_t status = m.has_status ? FlowStatusBits(m.status, m.has_helper)
                                : (counted ? r->status : 0);
  uint8_t old_cls = counted ? ClassOf(*r) : kNoClass;
  uint8_t cls = classifier_ ? classifier_->Classify(FlowKeyOf(m)) : kNoClass;
  if (counted && r->family() == family && r->proto() == proto &&
      r->state == state && r->zone == zone && r->status == status &&
      old_cls == cls) {
    return cls;
  }
  if (counted) {
    Count(*r, old_cls, -1);
    if (count_transition && r->proto() == proto && r->state != state &&
        r->state != kNoState && state != kNoState) {
      counters_->CountTransition(m.proto, r->state, state);
    }
  }
  if (!counted || r->state != state) r->since = now_s;
  r->set_class(family, proto);
  r->state = state;
  r->zone = zone;
  r->status = status;
  SetClassOf(*r, old_cls, cls);
  Count(*r, cls, +1);
  return cls;
}

void FlowTracker::ApplyEvent(const CtMessage& m, uint32_t now_s) {
  counters_->CountEvent(m.type, m.family, m.proto);
  if (m.type == EventType::kDestroy) {
    if (m.has_timestamp && m.start_ns > 0 && m.stop_ns >= m.start_ns) {
      counters_->ObserveDuration(
          m.family, m.proto, static_cast<double>(m.stop_ns - m.start_ns) / 1e9);
    }
    if (m.has_counters) {
      for (int dir = 0; dir < 2; ++dir) {
        counters_->AddTraffic(m.family, m.proto, dir, m.bytes[dir],
                              m.packets[dir]);
      }
    }
    FlowRecord* r = table_.Find(m.id, m.tag);
    if (r == nullptr) {
      counters_->destroy_unknown().Add(1);
      if (dumping_) {
        // The dump may still report it: remember that it is gone.
        bool inserted;
        r = table_.Insert(m.id, m.tag, &inserted);
        r->meta |= FlowRecord::kDead;
        ++tombstones_;
      }
    } else if (!r->dead()) {
      uint8_t cls = ClassOf(*r);
      Count(*r, cls, -1);
      SetClassOf(*r, cls, kNoClass);
      counters_->flows_removed().Add(1);
      if (dumping_) {
        r->meta |= FlowRecord::kDead;
        ++tombstones_;
      } else {
        table_.Erase(r);
      }
    }
    Publish();
    return;
  }
  bool inserted;
  FlowRecord* r = table_.Insert(m.id, m.tag, &inserted);
  if (!inserted && r->dead()) {
    // Same id again after a DESTROY within one dump: a new flow (ids are
    // reused only after the old flow is gone).
    r->meta &= static_cast<uint8_t>(~FlowRecord::kDead);
    --tombstones_;
    inserted = true;
  }
  uint8_t cls =
      Relabel(r, m, /*counted=*/!inserted, now_s, /*count_transition=*/true);
  r->gen = gen_;
  if (dumping_) r->meta |= FlowRecord::kTouched;
  if (cls != kNoClass && m.type == EventType::kNew) {
    class_blocks_[cls]->flows[static_cast<int>(m.proto)].Add(1);
  }
  if (inserted) {
    counters_->flows_added().Add(1);
    Publish();
  } else {
    counters_->flows_updated().Add(1);
  }
}

void FlowTracker::BeginDump(size_t expected) {
  dumping_ = true;
  ++gen_;
  if (expected > 0) table_.Reserve(expected);
}

void FlowTracker::ApplyDumpBatch(const CtMessage* msgs, size_t n,
                                 uint32_t now_s) {
  for (size_t i = 0; i < n; ++i) table_.Prefetch(msgs[i].id);
  for (size_t i = 0; i < n; ++i) ApplyDumpEntry(msgs[i], now_s);
}

void FlowTracker::ApplyDumpEntry(const CtMessage& m, uint32_t now_s) {
  bool inserted;
  FlowRecord* r = table_.Insert(m.id, m.tag, &inserted);
  if (!inserted && (r->dead() || r->touched())) return;
  // Do not count a transition: the dump only tells us where the flow is
  // now, not that it moved (events we lost may have moved it many times).
  Relabel(r, m, /*counted=*/!inserted, now_s, /*count_transition=*/false);
  r->gen = gen_;
  if (inserted) {
    counters_->flows_added().Add(1);
    Publish();
  }
}

size_t FlowTracker::EndDump(bool complete) {
  dumping_ = false;
  const uint8_t gen = gen_;
  size_t stale = 0;
  table_.EraseIf([&](FlowRecord& r) {
    if (r.dead()) return true;  // already uncounted
    if (complete && r.gen != gen) {
      uint8_t cls = ClassOf(r);
      Count(r, cls, -1);
      SetClassOf(r, cls, kNoClass);
      ++stale;
      return true;
    }
    r.meta &= static_cast<uint8_t>(~FlowRecord::kTouched);
    return false;
  });
  tombstones_ = 0;
  counters_->flows_removed().Add(static_cast<int64_t>(stale));
  Publish();
  return stale;
}

}  // namespace ctcollect
