#include "collector/collector.h"

namespace ctcollect {

void Collector::Start() {
  for (auto& w : watchers_) w->Start();
}

void Collector::Stop() {
  for (auto& w : watchers_) w->Stop();
}

void Collector::RequestResync() {
  for (auto& w : watchers_) w->RequestResync();
}

void Collector::SetClassifier(const std::shared_ptr<const FlowClassifier>& c) {
  {
    std::lock_guard<std::mutex> lock(classifier_mu_);
    classifier_ = c;
  }
  for (auto& w : watchers_) w->SetClassifier(c);
}

void Collector::SetPolicySelectors(
    const std::vector<PolicySelector>& selectors) {
  for (auto& w : watchers_) w->SetPolicySelectors(selectors);
}

std::shared_ptr<const FlowClassifier> Collector::Classifier() const {
  std::lock_guard<std::mutex> lock(classifier_mu_);
  return classifier_;
}

void Collector::SetResyncInterval(std::chrono::milliseconds interval) {
  for (auto& w : watchers_) w->SetResyncInterval(interval);
}

std::vector<const NetnsHandle*> Collector::Namespaces() const {
  std::vector<const NetnsHandle*> out;
  for (const auto& w : watchers_) out.push_back(&w->netns());
  return out;
}

Snapshot Collector::TakeSnapshot() const {
  Snapshot s;
  s.netns.resize(watchers_.size());
  for (size_t i = 0; i < watchers_.size(); ++i) {
    watchers_[i]->FillSnapshot(&s.netns[i]);
  }
  return s;
}

std::vector<NetnsWatcher::PolicyDurations> Collector::CopyStateDurations(
    const std::string& netns) const {
  for (const auto& w : watchers_) {
    if (netns.empty() || w->label() == netns) return w->CopyStateDurations();
  }
  return {};
}

bool Collector::Alive(std::chrono::milliseconds max_age) const {
  for (const auto& w : watchers_) {
    if (!w->Alive(max_age)) return false;
  }
  return true;
}

bool Collector::Ready() const {
  for (const auto& w : watchers_) {
    if (!w->Ready()) return false;
  }
  return true;
}

}  // namespace ctcollect
