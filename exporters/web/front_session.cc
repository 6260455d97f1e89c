#include "exporters/web/front_session.h"

#include <algorithm>

namespace ctcollect {

void FrontSession::OnClientBytes(std::string_view bytes) {
  if (phase_ == Phase::kFinished) return;
  in_.append(bytes);
  if (phase_ == Phase::kForward) {
    MoveBody();
  } else {
    Advance();
  }
}

void FrontSession::OnClientEnd() {
  client_ended_ = true;
  // Nothing under way, or a request whose body will never come whole.
  if (phase_ == Phase::kAwait || body_left_ > 0) Finish();
}

void FrontSession::Advance() {
  if (phase_ != Phase::kAwait || in_.empty()) return;
  RequestParse p = ParseRequestHead(in_);
  if (!p.complete()) return;
  if (p.error) {
    Finish(ErrorResponse(*p.error));
    return;
  }
  request_ = std::move(p.head);
  in_.erase(0, request_->size);
  to_backend_ = std::move(request_->forward);
  request_->forward.clear();
  body_left_ = request_->body;
  phase_ = Phase::kForward;
  MoveBody();
}

void FrontSession::MoveBody() {
  const size_t n = std::min(body_left_, in_.size());
  to_backend_.append(in_, 0, n);
  in_.erase(0, n);
  body_left_ -= n;
}

bool FrontSession::ReadsClient() const {
  switch (phase_) {
    case Phase::kAwait:
      return true;  // ParseRequestHead bounds what waits in in_
    case Phase::kForward:
      return body_left_ > 0 && to_backend_.size() < kMaxBuffered;
    case Phase::kFinished:
      return false;
  }
  return false;
}

bool FrontSession::ReadsBackend() const {
  return backend_ && to_client_.size() < kMaxBuffered;
}

FrontSession::Wait FrontSession::waiting() const {
  if (phase_ != Phase::kAwait) return Wait::kNone;
  return in_.empty() && answered_ > 0 ? Wait::kIdle : Wait::kHead;
}

void FrontSession::OnBackendBytes(std::string_view bytes) {
  if (!backend_) return;
  any_answer_ = true;
  to_client_.append(bytes);
  if (!answer_) {
    answer_head_.append(bytes);
    // An interim answer (100 Continue) is followed by the real one.
    while (true) {
      answer_ = ParseResponseHead(answer_head_);
      if (!answer_ || answer_->status / 100 != 1 || answer_->status == 101) {
        break;
      }
      answer_head_.erase(0, answer_->size);
      answer_.reset();
    }
    if (!answer_) return;
    bytes = std::string_view(answer_head_)
                .substr(std::min(answer_->size, answer_head_.size()));
    answer_body_ = 0;
  }
  answer_body_ += bytes.size();
  answer_tail_.append(
      bytes.substr(bytes.size() - std::min<size_t>(5, bytes.size())));
  if (answer_tail_.size() > 5) answer_tail_.erase(0, answer_tail_.size() - 5);
  answer_head_.clear();
}

bool FrontSession::AnswerComplete() const {
  if (!answer_ || answer_->status == 0) return false;
  if (answer_->bodyless()) return true;
  if (request_ && request_->method == "HEAD") return answer_body_ == 0;
  if (answer_->content_length) return answer_body_ == *answer_->content_length;
  return answer_->chunked && answer_tail_ == "0\r\n\r\n";
}

void FrontSession::OnBackendEnd() {
  if (!backend_) return;
  backend_ = false;
  if (!any_answer_) {
    Finish(ErrorResponse({503, "the server could not answer; try again"}));
    return;
  }
  ++answered_;
  const bool keep = request_->keep_alive && !request_->http10 &&
                    !client_ended_ && AnswerComplete() && !answer_->says_close;
  request_.reset();
  any_answer_ = false;
  answer_head_.clear();
  answer_.reset();
  answer_body_ = 0;
  answer_tail_.clear();
  if (!keep) {
    Finish();
    return;
  }
  phase_ = Phase::kAwait;
  Advance();  // a pipelined request may be waiting
}

void FrontSession::OnTimeout() {
  if (phase_ != Phase::kAwait) return;
  if (!in_.empty()) {
    Finish(ErrorResponse({408, "request head not received in time"}));
  } else {
    Finish();
  }
}

void FrontSession::Finish(std::string last) {
  phase_ = Phase::kFinished;
  in_.clear();
  to_backend_.clear();
  to_client_ += last;
}

}  // namespace ctcollect
