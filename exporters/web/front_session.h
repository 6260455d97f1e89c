// One client connection of the web front (http_front.h), as a state
// machine with no socket, no thread and no clock: bytes in, bytes out, and
// what the loop that owns the sockets should do next.
//
// A connection waits for a complete request head (ParseRequestHead); only
// then does the front open a connection to civetweb and hand it the
// request with "Connection: close", so a civetweb worker is held only while
// it answers, never by a slow or idle client. civetweb's answer is passed
// through unchanged; when civetweb closes, the answer is complete, and the
// client's connection stays open for its next request if the client asked
// for that (HTTP/1.1 without "Connection: close") and the answer showed its
// own end (Content-Length, chunked, or no body) and arrived whole.
// Pipelined requests wait in the client's buffer and are answered in order.
//
// Thread safety: none; one loop thread owns each session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporters/web/http_head.h"

namespace ctcollect {

class FrontSession {
 public:
  // What the connection is waiting for, which sets its deadline.
  enum class Wait {
    kNone,  // a request is being answered
    kHead,  // the rest of a request head (or the first request)
    kIdle,  // the next request on a kept-alive connection, no byte yet
  };

  // Bytes the client sent.
  void OnClientBytes(std::string_view bytes);
  // The client's end of the stream (EOF): the answer under way is still
  // delivered, then the connection closes.
  void OnClientEnd();
  // civetweb's answer, as it comes.
  void OnBackendBytes(std::string_view bytes);
  // civetweb closed its connection: the answer is complete (or, with no
  // byte of it, civetweb could not answer: the client gets a 503).
  void OnBackendEnd();
  // The front's deadline passed while waiting for a head: a 408 if part of
  // one came, then the connection closes.
  void OnTimeout();

  // Bytes for the client and for civetweb; the loop erases what it wrote.
  std::string& to_client() { return to_client_; }
  std::string& to_backend() { return to_backend_; }

  // A request is ready and has no civetweb connection yet: the loop opens
  // one and calls BackendOpened().
  bool NeedsBackend() const { return phase_ == Phase::kForward && !backend_; }
  void BackendOpened() { backend_ = true; }
  bool HasBackend() const { return backend_; }

  // Whether the loop should read from the client / from civetweb now
  // (bounded buffers: a client that does not read its answer stops
  // civetweb's, a request in flight stops the next one).
  bool ReadsClient() const;
  bool ReadsBackend() const;
  // Close the client's connection once to_client() is written.
  bool Finished() const { return phase_ == Phase::kFinished; }
  Wait waiting() const;

  // Requests answered over this connection so far.
  uint64_t answered() const { return answered_; }

  static constexpr size_t kMaxBuffered = 256 * 1024;

 private:
  enum class Phase { kAwait, kForward, kFinished };
  void Advance();   // parse the next request in in_ if awaiting one
  void MoveBody();  // request body bytes from in_ to to_backend_
  bool AnswerComplete() const;
  void Finish(std::string last = {});

  Phase phase_ = Phase::kAwait;
  std::string in_;  // client bytes not yet handed on
  std::string to_client_, to_backend_;
  bool backend_ = false;
  bool client_ended_ = false;
  uint64_t answered_ = 0;
  // The request in flight.
  std::optional<RequestHead> request_;
  size_t body_left_ = 0;
  // Its answer so far.
  bool any_answer_ = false;
  std::string answer_head_;  // until its head is complete
  std::optional<ResponseHead> answer_;
  uint64_t answer_body_ = 0;
  std::string answer_tail_;  // the body's last 5 bytes (chunked end)
};

}  // namespace ctcollect
