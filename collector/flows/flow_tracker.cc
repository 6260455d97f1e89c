#include "collector/flows/flow_tracker.h"

namespace ctcollect {

using LabelKind = CounterShard::LabelKind;

FlowTracker::FlowTracker(CounterShard* counters, TopTalkers* top)
    : counters_(counters), top_(top) {
  PolicyBlock(kPolicyDefault);
}

CounterShard::LabelBlock* FlowTracker::PolicyBlock(uint8_t index) {
  while (policy_blocks_.size() <= index) {
    policy_blocks_.push_back(counters_->BlockFor(
        LabelKind::kPolicy,
        attributor_.Name(static_cast<uint8_t>(policy_blocks_.size()))));
  }
  return policy_blocks_[index];
}

uint8_t FlowTracker::HelperIndex(const char* name) {
  for (size_t i = 0; i < helper_blocks_.size(); ++i) {
    if (helper_blocks_[i]->name == name) return static_cast<uint8_t>(i);
  }
  // Helpers are kernel modules: a handful at most. Past 254 distinct
  // names (a misbehaving source), the rest share one bucket.
  if (helper_blocks_.size() >= 254) return 253;
  helper_blocks_.push_back(counters_->BlockFor(
      LabelKind::kHelper, name[0] != '\0' ? name : "unnamed"));
  return static_cast<uint8_t>(helper_blocks_.size() - 1);
}

void FlowTracker::Count(const FlowRecord& r, const Labels& l, int64_t d) {
  const auto proto = static_cast<Proto>(r.proto());
  counters_->AddEntry(r.zone, static_cast<Family>(r.family()), proto, r.state,
                      d);
  if (r.status) counters_->AddStatus(r.status, d);
  policy_blocks_[l.policy]->AddEntry(proto, r.state, d);
  if (l.cls != kNoClass) class_blocks_[l.cls]->AddEntry(proto, r.state, d);
  if (l.helper != kNoHelper) {
    helper_blocks_[l.helper]->AddEntry(proto, r.state, d);
  }
}

FlowTracker::Labels FlowTracker::LabelsOf(const FlowRecord& r) {
  if (extras_.size() == 0) return {};
  const ExtraRecord* e = extras_.Find(r.id, r.tag);
  if (e == nullptr) return {};
  return Labels{e->cls, e->policy, e->helper};
}

void FlowTracker::SetLabels(const FlowRecord& r, const Labels& old,
                            const Labels& now) {
  if (old == now) return;
  if (now.empty()) {
    if (ExtraRecord* e = extras_.Find(r.id, r.tag)) extras_.Erase(e);
  } else {
    bool inserted;
    ExtraRecord* e = extras_.Insert(r.id, r.tag, &inserted);
    e->cls = now.cls;
    e->policy = now.policy;
    e->helper = now.helper;
  }
  extra_bytes_.store(static_cast<int64_t>(extras_.size() ? extras_.bytes() : 0),
                     std::memory_order_relaxed);
}

void FlowTracker::Forget(const FlowRecord& r) {
  Labels l = LabelsOf(r);
  Count(r, l, -1);
  // The flow ended under this policy (known best at the end: nft policies
  // act from a flow's second packet on).
  policy_blocks_[l.policy]->flows[r.proto()].Add(1);
  SetLabels(r, l, Labels{});
}

void FlowTracker::SetClassifier(
    std::shared_ptr<const FlowClassifier> classifier) {
  // Take every classified flow out of its class.
  extras_.EraseIf([&](ExtraRecord& e) {
    if (e.cls != kNoClass) {
      const FlowRecord* r = table_.Find(e.id, e.tag);
      if (r != nullptr && !r->dead()) {
        class_blocks_[e.cls]->AddEntry(static_cast<Proto>(r->proto()), r->state,
                                       -1);
      }
      e.cls = kNoClass;
    }
    return Labels{e.cls, e.policy, e.helper}.empty();
  });
  class_blocks_.clear();
  counters_->Deactivate(LabelKind::kClass);
  classifier_.reset();
  if (classifier == nullptr || classifier->empty()) return;
  for (size_t i = 0; i < classifier->size(); ++i) {
    class_blocks_.push_back(
        counters_->BlockFor(LabelKind::kClass, classifier->at(i).name));
  }
  classifier_ = std::move(classifier);
}

void FlowTracker::SetPolicies(const std::vector<TimeoutPolicy>& policies) {
  attributor_.SetPolicies(policies);
  PolicyBlock(static_cast<uint8_t>(attributor_.size() - 1));
}

void FlowTracker::SetPolicySelectors(
    const std::vector<PolicySelector>& selectors) {
  attributor_.SetSelectors(selectors);
  PolicyBlock(static_cast<uint8_t>(attributor_.size() - 1));
}

void FlowTracker::Publish() {
  table_entries_.store(static_cast<int64_t>(live_flows()),
                       std::memory_order_relaxed);
  table_bytes_.store(static_cast<int64_t>(table_.bytes()),
                     std::memory_order_relaxed);
}

FlowTracker::Labels FlowTracker::Relabel(FlowRecord* r, const CtMessage& m,
                                         bool counted, uint32_t now_s,
                                         bool from_event) {
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
  const Labels old = counted ? LabelsOf(*r) : Labels{};
  Labels now;
  now.cls = classifier_ ? classifier_->Classify(FlowKeyOf(m)) : kNoClass;
  now.helper = m.has_helper ? HelperIndex(m.helper) : kNoHelper;
  // The timeout was just set by a NEW event or a state change.
  bool fresh = from_event && (m.type == EventType::kNew ||
                              (counted && m.has_state && r->state != state));
  now.policy = attributor_.Decide(m, state, old.policy, !counted, fresh);
  PolicyBlock(now.policy);
  if (counted && r->family() == family && r->proto() == proto &&
      r->state == state && r->zone == zone && r->status == status &&
      old == now) {
    return now;
  }
  if (counted) {
    Count(*r, old, -1);
    if (from_event && r->proto() == proto && r->state != state &&
        r->state != kNoState && state != kNoState) {
      counters_->CountTransition(m.proto, r->state, state);
      int si = StatefulIndex(m.proto);
      if (si >= 0 && r->since != 0) {
        // How long it stayed, for `ctcollect advise`; under the policy it
        // ran under in that state.
        policy_blocks_[old.policy]
            ->Durations()
            ->moved[si][r->state][DurationBucketOf(now_s - r->since)]
            .Add(1);
      }
    }
  }
  // When the flow entered its state: known from an event; 0 (unknown) when
  // a dump shows a flow or a state we had not seen come.
  if (!counted || r->state != state) r->since = from_event ? now_s : 0;
  r->set_class(family, proto);
  r->state = state;
  r->zone = zone;
  r->status = status;
  SetLabels(*r, old, now);
  Count(*r, now, +1);
  return now;
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
      if (top_)
        top_->Count(m, -1, dumping_ && r->gen == gen_ ? -1 : 0,
                    /*created=*/false, now_s);
      Forget(*r);
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
  Labels l = Relabel(r, m, /*counted=*/!inserted, now_s, /*from_event=*/true);
  if (top_) {
    // The dump's generation holds the flows confirmed since it began.
    const bool in_dump_generation = !inserted && r->gen == gen_;
    top_->Count(m, inserted ? 1 : 0, dumping_ && !in_dump_generation ? 1 : 0,
                m.type == EventType::kNew, now_s);
  }
  r->gen = gen_;
  if (dumping_) r->meta |= FlowRecord::kTouched;
  if (m.type == EventType::kNew) {
    if (l.cls != kNoClass) {
      class_blocks_[l.cls]->flows[static_cast<int>(m.proto)].Add(1);
    }
    if (l.helper != kNoHelper) {
      helper_blocks_[l.helper]->flows[static_cast<int>(m.proto)].Add(1);
    }
  }
  if (inserted) {
    counters_->flows_added().Add(1);
    Publish();
  } else {
    counters_->flows_updated().Add(1);
  }
}

void FlowTracker::ApplyEventBatch(const CtMessage* msgs, size_t n,
                                  uint32_t now_s) {
  for (size_t i = 0; i < n; ++i) table_.Prefetch(msgs[i].id);
  if (extras_.size() != 0) {
    for (size_t i = 0; i < n; ++i) extras_.Prefetch(msgs[i].id);
  }
  for (size_t i = 0; i < n; ++i) ApplyEvent(msgs[i], now_s);
}

void FlowTracker::BeginDump(size_t expected) {
  dumping_ = true;
  ++gen_;
  dump_inserted_ = 0;
  if (top_) top_->BeginDump();
  Reserve(expected);
}

void FlowTracker::Reserve(size_t expected) {
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
  Relabel(r, m, /*counted=*/!inserted, now_s, /*from_event=*/false);
  if (top_) {
    top_->Count(m, inserted ? 1 : 0, inserted || r->gen != gen_ ? 1 : 0,
                /*created=*/false, now_s);
  }
  r->gen = gen_;
  if (inserted) {
    ++dump_inserted_;
    counters_->flows_added().Add(1);
    Publish();
  }
}

size_t FlowTracker::EndDump(bool complete, uint32_t now_s) {
  dumping_ = false;
  const uint8_t gen = gen_;
  size_t stale = 0;
  // Rebuild the age-in-state histograms of the flows that stay.
  for (auto* b : policy_blocks_) {
    if (StateDurations* d = b->durations.load(std::memory_order_relaxed)) {
      for (auto& per_proto : d->ages) {
        for (auto& h : per_proto) {
          for (auto& c : h) c.Set(0);
        }
      }
    }
  }
  table_.EraseIf([&](FlowRecord& r) {
    if (r.dead()) return true;  // already uncounted
    if (complete && r.gen != gen) {
      Forget(r);
      ++stale;
      return true;
    }
    r.meta &= static_cast<uint8_t>(~FlowRecord::kTouched);
    // (A record of a cluster wrapping past the table's end may be visited
    // twice and counted twice here: rare, and this is an estimate.)
    int si = StatefulIndex(static_cast<Proto>(r.proto()));
    if (si >= 0 && r.since != 0 && r.state < kMaxStates && now_s >= r.since) {
      policy_blocks_[LabelsOf(r).policy]
          ->Durations()
          ->ages[si][r.state][DurationBucketOf(now_s - r.since)]
          .Add(1);
    }
    return false;
  });
  tombstones_ = 0;
  if (top_) top_->EndDump(complete);
  counters_->flows_removed().Add(static_cast<int64_t>(stale));
  Publish();
  return stale;
}

}  // namespace ctcollect
