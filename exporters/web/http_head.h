// HTTP/1.x message heads as the web front sees them (outside bytes): a
// client's request head, checked and rewritten for civetweb, and civetweb's
// response head, read for what it says about the connection.
//
// The front hands civetweb one request per connection ("Connection: close")
// so that a worker is held only while it answers; the response's own
// framing then decides whether the client's connection may stay open.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctcollect {

// civetweb's max_request_size: a head larger than this is refused.
inline constexpr size_t kMaxRequestHead = 16384;
// The largest request body forwarded (no endpoint takes one).
inline constexpr size_t kMaxRequestBody = 65536;

struct RequestHead {
  size_t size = 0;  // bytes of the head in the input, blank line included
  std::string method;
  bool http10 = false;     // HTTP/1.0 (else 1.1)
  bool keep_alive = true;  // the client's wish after this request
  size_t body = 0;         // Content-Length
  // The head as civetweb gets it: request line and headers unchanged but
  // for the hop-by-hop Connection / Keep-Alive ones, ending with
  // "Connection: close".
  std::string forward;
};

// An answer the front gives itself, when a head is refused.
struct HeadError {
  int status = 400;    // 400, 411, 413, 431 or 505
  std::string reason;  // one line, no newline
};

// What the first bytes of a client's stream hold: nullopt while the head is
// incomplete (and still within kMaxRequestHead), else the head or why it is
// refused.
struct RequestParse {
  std::optional<RequestHead> head;
  std::optional<HeadError> error;
  bool complete() const { return head || error; }
};
RequestParse ParseRequestHead(std::string_view in);

// The complete answer for a refused head: status line, headers (with
// "Connection: close") and a one-line body.
std::string ErrorResponse(const HeadError& e);

struct ResponseHead {
  size_t size = 0;  // bytes of the head, blank line included
  int status = 0;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool says_close = false;  // "Connection: close"
  bool bodyless() const {
    return status / 100 == 1 || status == 204 || status == 304;
  }
  // Whether the response's end shows without the connection closing.
  bool self_delimited() const {
    return bodyless() || chunked || content_length.has_value();
  }
};

// civetweb's response head at the start of `in`: nullopt while incomplete;
// a head with status 0 for bytes that are no HTTP/1.x response or exceed
// kMaxRequestHead.
std::optional<ResponseHead> ParseResponseHead(std::string_view in);

}  // namespace ctcollect
